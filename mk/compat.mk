# SPDX-License-Identifier: MIT
# libgmem-compat: LD_PRELOAD shim running code written against the in-place
# conversion uAPI on kernels without it (docs/compat.md).  libgmem's objects
# are linked in; ld --wrap sends their own libc calls past the interposers.

COMPAT_SRC  := $(sort $(wildcard compat/*.c))
COMPAT_OBJ  := $(COMPAT_SRC:%.c=$(BUILD)/obj/%.o)
COMPAT_SO   := $(BUILD)/libgmem-compat.so
COMPAT_WRAP := ioctl mmap mmap64 munmap mremap fallocate fallocate64 close \
               dup dup2 dup3 fcntl fcntl64 madvise

$(COMPAT_OBJ): ALL_CFLAGS += -fvisibility=hidden

$(COMPAT_SO): $(COMPAT_OBJ) $(LIB_OBJ) compat/libgmem-compat.map
	$(CC) $(SANFLAGS) -shared -Wl,--version-script=compat/libgmem-compat.map \
		$(COMPAT_WRAP:%=-Wl,--wrap=%) -Wl,-z,defs \
		-o $@ $(COMPAT_OBJ) $(LIB_OBJ) $(LDLIBS) -ldl

ALL_EXTRA += $(COMPAT_SO)

-include $(COMPAT_OBJ:.o=.d)

# make install also installs the shim beside libgmem.
.PHONY: install-compat
install: install-compat
install-compat: $(COMPAT_SO)
	install -d $(DESTDIR)$(PREFIX)/lib
	install -m 755 $(COMPAT_SO) $(DESTDIR)$(PREFIX)/lib/
