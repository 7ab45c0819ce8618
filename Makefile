# Roost - one non-recursive Makefile for the whole tree.
#   make            build build/bin/roost and its Dovecot-named links
#   make check      install missing packages, build, run every test
#   make SANITIZE=1 check   the same under ASan+UBSan
#   make fuzz       build the libFuzzer harnesses (clang)
#   make install    DESTDIR/PREFIX aware, Debian's Dovecot paths

PREFIX ?= /usr
SYSCONFDIR ?= /etc
DESTDIR ?=
CC ?= cc
PKG_CONFIG ?= pkg-config
PYTHON ?= python3
VERSION := 0.1.0

# The sanitizer build lives in its own tree so that it never replaces the
# normal binaries under a test that is running.
ifeq ($(SANITIZE),1)
B := build/san
else
B := build
endif
PKGS := openssl yaml-0.1 libsystemd zlib liblz4 libzstd liblzma

WARN := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral \
	-Wno-missing-field-initializers
HARDEN := -fstack-protector-strong -fPIE -D_FORTIFY_SOURCE=2
ifeq ($(SANITIZE),1)
VARIANT := san
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
SANLD := -fsanitize=address,undefined
else
VARIANT := std
OPT := -O2 -g
SANLD :=
endif
ifeq ($(CI),true)
WARN += -Werror
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

INCLUDES := -Ilib -Iconfparse -Iauth -Imailstore -Idaemon -Idaemon/pop3 -Idaemon/imap -Idaemon/smtp -Idaemon/lmtp -Idaemon/submission -Idaemon/master -Idaemon/login -Icompat -I$(B)/gen
ALL_CFLAGS := -std=gnu17 -D_GNU_SOURCE $(WARN) $(HARDEN) $(OPT) $(INCLUDES) $(PKG_CFLAGS) \
	-DROOST_VERSION='"$(VERSION)"' -DSYSCONFDIR='"$(SYSCONFDIR)"' \
	$(CFLAGS)
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now $(SANLD) $(LDFLAGS)
LIBS := $(PKG_LIBS) -lpam -lcrypt -largon2 -lbz2 -lm

O := $(B)/obj-$(VARIANT)

# Layers, bottom up. Every .c of a layer folder is part of the program.
LAYERS := lib confparse auth mailstore daemon daemon/pop3 daemon/imap daemon/smtp daemon/lmtp daemon/submission daemon/login daemon/master compat
SRCS := $(foreach d,$(LAYERS),$(wildcard $(d)/*.c))
MAIN_SRC := compat/main.c
GEN_SRCS := $(B)/gen/settings-schema.c
OBJS := $(patsubst %.c,$(O)/%.o,$(filter-out $(MAIN_SRC),$(SRCS))) \
	$(O)/gen/settings-schema.o
MAIN_OBJ := $(O)/compat/main.o

UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(patsubst %.c,$(O)/%.o,$(UNIT_SRCS))

LINKS := dovecot doveconf doveadm dovecot-lda
BIN := $(B)/bin/roost

.PHONY: all deps check unit compat-test fuzz fuzz-run install clean demo \
	variant-stamp
all: $(BIN) $(addprefix $(B)/bin/,$(LINKS))

# Rebuild the binaries when switching between SANITIZE=1 and the normal
# build: the stamp changes only when the variant does.
$(B)/.variant: variant-stamp
	@mkdir -p $(B)
	@[ "$$(cat $@ 2>/dev/null)" = "$(VARIANT)" ] || echo $(VARIANT) > $@

$(B)/gen/settings-schema.c: confparse/settings.tsv confparse/gen-schema.awk
	@mkdir -p $(@D)
	awk -f confparse/gen-schema.awk confparse/settings.tsv > $@.tmp
	mv $@.tmp $@

GEN_HDRS := $(B)/gen/settings-structs.h
$(B)/gen/settings-structs.h: confparse/settings.tsv confparse/gen-schema.awk
	@mkdir -p $(@D)
	awk -v mode=header -f confparse/gen-schema.awk \
		confparse/settings.tsv > $@.tmp
	mv $@.tmp $@

$(O)/%.o: %.c | $(GEN_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(O)/gen/%.o: $(B)/gen/%.c | $(GEN_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(O)/tests/unit/%.o: tests/unit/%.c | $(GEN_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c $< -o $@

$(BIN): $(OBJS) $(MAIN_OBJ) $(B)/.variant
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(MAIN_OBJ) $(OBJS) $(LIBS)

$(addprefix $(B)/bin/,$(LINKS)): $(BIN)
	@ln -sf roost $@

$(B)/bin/unit-tests: $(UNIT_OBJS) $(OBJS) $(B)/.variant
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(UNIT_OBJS) $(OBJS) $(CHECK_LIBS) $(LIBS)

deps:
	@./scripts/deps.sh

# Run the server in the foreground on unprivileged ports (scripts/demo.sh).
demo: deps
	$(MAKE) all
	./scripts/demo.sh $(B)/bin

check: deps
	$(MAKE) all $(B)/bin/unit-tests
	$(MAKE) unit
	$(MAKE) compat-test
	$(MAKE) integration
	$(MAKE) package-test

unit: $(B)/bin/unit-tests
	CK_FORK=yes CK_DEFAULT_TIMEOUT=60 ROOST_SRCDIR=$(CURDIR) \
		$(B)/bin/unit-tests

# The compat scripts share nothing (own temp dirs, Dovecot and Postfix on
# free ports): tests/parallel runs them two at a time, the longest first
# (check-known.sh and yaml-roundtrip.sh one after the other: both may
# fill doveconf-diff.sh's stock-config cache).
compat-test: all
	$(PYTHON) tests/parallel -j 2 \
	"PROBE=$(CURDIR)/$(B)/bin/mime-probe ./tests/timed $(PYTHON) tests/compat/mime-diff.py" \
	"ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/compat/imap-diff.py" \
	"ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/compat/auth-log-diff.py" \
	"ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/compat/auth-policy-diff.py" \
	"ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/compat/auth-cache-diff.py" \
	"ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/compat/submission-diff.py" \
	"ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/compat/smtp-diff.py" \
	"./tests/timed ./tests/compat/pw-diff.sh $(CURDIR)/$(B)/bin/doveadm" \
	"./tests/timed ./tests/compat/check-known.sh $(CURDIR)/$(B)/bin/doveconf && \
	 ./tests/timed ./tests/compat/yaml-roundtrip.sh $(CURDIR)/$(B)/bin/doveconf" \
	"./tests/timed $(PYTHON) tests/compat/dialect-test.py $(CURDIR)/$(B)/bin/doveconf" \
	"ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/compat/auth-diff.py" \
	"PROBE=$(CURDIR)/$(B)/bin/sort-probe ./tests/timed $(PYTHON) tests/compat/sort-thread-diff.py" \
	"PROBE=$(CURDIR)/$(B)/bin/casemap-probe ./tests/timed $(PYTHON) tests/compat/casemap-diff.py" \
	"ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/compat/maildir-roundtrip.py" \
	"ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/compat/pop3-diff.py"

# MIME differential test (tests/compat/mime-diff.py): mime-probe prints
# FETCH results of Roost's MIME code for one message file.
compat-test: $(B)/bin/mime-probe
$(B)/bin/mime-probe: tests/compat/mime-probe.c $(OBJS) $(B)/.variant
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(OBJS) $(LIBS)

# SORT/THREAD differential test (tests/compat/sort-thread-diff.py):
# sort-probe prints Roost's SORT and THREAD answers for a Maildir.
compat-test: $(B)/bin/sort-probe
$(B)/bin/sort-probe: tests/compat/sort-probe.c $(OBJS) $(B)/.variant
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(OBJS) $(LIBS)

# i;unicode-casemap differential test (tests/compat/casemap-diff.py):
# casemap-probe folds hex-encoded lines with Roost's casemap.
compat-test: $(B)/bin/casemap-probe
$(B)/bin/casemap-probe: tests/compat/casemap-probe.c $(OBJS) $(B)/.variant
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(OBJS) $(LIBS)

# Integration tests. auth-db-probe: a test-only program linked with
# Roost's objects, run under pam_wrapper/nss_wrapper.
$(B)/bin/auth-db-probe: tests/integration/auth-db-probe.c $(OBJS) $(B)/.variant
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(OBJS) $(LIBS)

$(B)/bin/mailstore-probe: tests/integration/mailstore-probe.c $(OBJS) $(B)/.variant
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(OBJS) $(LIBS)

.PHONY: integration
integration: all $(B)/bin/auth-db-probe $(B)/bin/mailstore-probe
	./tests/timed ./tests/integration/auth-pam.sh $(CURDIR)/$(B)/bin/auth-db-probe
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) \
		tests/integration/test_auth_service.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_doveadm_auth.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_doveadm_mail.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed ./tests/integration/postfix-sasl.sh
	PROBE=$(CURDIR)/$(B)/bin/mailstore-probe ./tests/timed $(PYTHON) \
		tests/integration/mailstore-crash.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_pop3_server.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_pop3_clients.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_service_limits.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_logging.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_imap_server.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/imap-clients.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_imap_search.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_imap_ext.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_imap_utf8.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_imap_fetch.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_imap_mailbox.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_imap_append.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) \
		tests/integration/test_socket_activation.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_zeroconf.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) \
		tests/integration/test_imap_login.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_haproxy.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_imap_workarounds.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_submission.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_lmtp.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_imap_condstore.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_imap_urlauth.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_mail_plugins.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_imap_quota.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_imap_acl.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_imap_compress.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_mail_zlib.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_mail_log.py
	PROBE=$(CURDIR)/$(B)/bin/mailstore-probe ./tests/timed $(PYTHON) \
		tests/integration/mbox-crash.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) \
		tests/integration/test_mbox_dovecot.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_mbox_lock.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_dotlock_killed.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_doveadm_dedup.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_dialects.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_dialect_dbfile.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_dialect_defaults.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_dialect_acl.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_dialect_plugins.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) tests/integration/test_dialect_mailbox.py
	ROOST=$(CURDIR)/$(B)/bin/roost ./tests/timed $(PYTHON) \
		tests/integration/test_smtp_postfix.py

# Side-by-side benchmarks against Debian's Dovecot (tests/bench/README.md).
# imap-bench.py (the longest) runs last, after pop3-bench.py.
BENCH_SCRIPTS := $(filter-out tests/bench/imap-bench.py,\
	$(sort $(wildcard tests/bench/*.py))) tests/bench/imap-bench.py
.PHONY: bench
bench: all
	for f in $(BENCH_SCRIPTS); do \
		ROOST=$(CURDIR)/$(B)/bin/roost $(PYTHON) $$f || exit 1; done

# libFuzzer harnesses: clang only, separate objects.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))
FUZZ_CFLAGS := -std=gnu17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	$(INCLUDES) $(PKG_CFLAGS) -DROOST_VERSION='"$(VERSION)"' \
	-DSYSCONFDIR='"$(SYSCONFDIR)"' -DFUZZING
FUZZ_LIB_SRCS := $(filter-out $(MAIN_SRC),$(SRCS)) $(GEN_SRCS)
# the library objects are compiled once (make -j) and shared by every
# harness
FUZZ_O := $(B)/obj-fuzz
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_O)/%.o,$(filter-out $(MAIN_SRC),$(SRCS))) \
	$(FUZZ_O)/gen/settings-schema.o
$(FUZZ_O)/%.o: %.c | $(GEN_HDRS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
$(FUZZ_O)/gen/%.o: $(B)/gen/%.c | $(GEN_HDRS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
.SECONDARY: $(FUZZ_LIB_OBJS) $(patsubst tests/fuzz/%.c,$(FUZZ_O)/tests/fuzz/%.o,$(FUZZ_SRCS))
fuzz: $(GEN_HDRS) $(FUZZ_BINS)
$(B)/fuzz/%: $(FUZZ_O)/tests/fuzz/%.o $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(LIBS)
FUZZ_SECONDS ?= 60
fuzz-run: fuzz
	./tests/fuzz/run.sh $(FUZZ_SECONDS)

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/lib/dovecot \
		$(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man7 \
		$(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/roost
	ln -sf roost $(DESTDIR)$(PREFIX)/sbin/dovecot
	ln -sf ../sbin/roost $(DESTDIR)$(PREFIX)/bin/doveconf
	ln -sf ../sbin/roost $(DESTDIR)$(PREFIX)/bin/doveadm
	ln -sf ../../sbin/roost $(DESTDIR)$(PREFIX)/lib/dovecot/dovecot-lda
	ln -sf dovecot-lda $(DESTDIR)$(PREFIX)/lib/dovecot/deliver
	ln -sf ../../sbin/roost \
		$(DESTDIR)$(PREFIX)/lib/dovecot/checkpassword-reply
	for m in man/*.1; do [ -f "$$m" ] && \
		install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done; true
	for m in man/*.5; do [ -f "$$m" ] && \
		install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man5/; done; true
	for m in man/*.7; do [ -f "$$m" ] && \
		install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man7/; done; true
	for m in man/*.8; do [ -f "$$m" ] && \
		install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done; true

# The Debian package (packaging/README.md): a fresh copy of the tree with
# packaging/debian as debian/, built by dpkg-buildpackage in build/deb;
# nothing is reused from an earlier run.
DEB_SRC := build/deb/roost-$(VERSION)
.PHONY: deb package-test
deb: deps
	rm -rf build/deb
	mkdir -p $(DEB_SRC)
	tar -cf - --exclude=./build --exclude=./.git --exclude=__pycache__ . | \
		tar -xf - -C $(DEB_SRC)
	cp -R packaging/debian $(DEB_SRC)/debian
	cd $(DEB_SRC) && DEB_BUILD_OPTIONS=parallel=2 \
		dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -40 ../build.log; exit 1; }
	ls build/deb/*.deb

# make check runs this: systemd units, man pages, the .deb and its
# maintainer scripts (tests/integration/test_package.sh).
package-test: all
	./tests/timed ./tests/integration/test_package.sh $(CURDIR)/$(B)/bin

clean:
	rm -rf $(B)

-include $(shell find $(B) -path $(B)/deb -prune -o -name '*.d' -type f -print 2>/dev/null)
