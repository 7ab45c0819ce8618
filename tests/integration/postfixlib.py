"""postfixlib.py - a real Debian Postfix for the SMTP/LMTP tests, run from
a temporary config directory (`postfix -c DIR start`) with its own
queue_directory, data_directory and maillog under /tmp, listening only on
a free 127.0.0.1 port (master.cf), IPv4 only. The machine's own
/etc/postfix and any running system instance are never touched: every
postfix/postqueue/postsuper/sendmail call gets `-c DIR`.

What it does with mail:
  - every domain is a virtual mailbox domain (`virtual_mailbox_domains =
    static:all`) whose every address exists (`virtual_mailbox_maps =
    static:sink/`): by default all mail goes to the virtual(8) delivery
    agent into the single Maildir SINK (= TMP/vmail/sink/), owned by
    uid/gid 65534, which the test reads (`messages()`). That is the relay
    behind a submission server;
  - `lmtp={"domain": "lmtp:unix:/path/to/socket" or
    "lmtp:inet:127.0.0.1:PORT"}` routes those domains to a mail server
    over LMTP (transport_maps, texthash: no postmap needed): the MTA in
    front of an LMTP server. Bounces for the other domains (the sender's)
    still land in SINK, so a test sees them;
  - local delivery is off (`mydestination =`, `local_transport = error:`).

`tls_cert=(cert, key)`: smtpd offers STARTTLS on `port` and listens
with implicit TLS (wrappermode) on `smtps_port` too; its Received header
then says "with ESMTPS" and names the TLS version and cipher.

Injection: `smtp_send()` over SMTP to Postfix's smtpd, or `sendmail()`
(`sendmail -C DIR`, through the maildrop queue and pickup). `wait_idle()`
waits (bounded) until the queue is empty: no file left under incoming,
active, deferred, maildrop or hold; `postqueue()` is `postqueue -c DIR -p`.

Needs root (Postfix's master starts as root and its daemons run as the
`postfix` user) and the Debian postfix package."""
import glob
import os
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time

UID = GID = 65534
QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")

MASTER_CF = """%(port)s inet n - n - - smtpd
pickup    unix n - n 1 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
virtual   unix - n n - - virtual
lmtp      unix - - n - - lmtp
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
tlsmgr    unix - - n 1000? 1 tlsmgr
"""

MAIN_CF = """compatibility_level = 3.6
queue_directory = %(tmp)s/spool
data_directory = %(tmp)s/data
mail_owner = postfix
setgid_group = postdrop
myhostname = %(hostname)s
mydomain = test
myorigin = %(hostname)s
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
local_transport = error:local delivery is disabled
alias_maps =
alias_database =
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
%(smtpd_tls)s
smtp_tls_security_level = none
lmtp_tls_security_level = none
smtputf8_enable = yes
virtual_mailbox_domains = static:all
virtual_mailbox_maps = static:sink/
virtual_mailbox_limit = 0
virtual_mailbox_base = %(tmp)s/vmail
virtual_uid_maps = static:%(uid)d
virtual_gid_maps = static:%(gid)d
virtual_transport = virtual
transport_maps = texthash:%(config)s/transport
message_size_limit = %(size)d
biff = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 0
maillog_file_prefixes = /tmp
maillog_file = %(tmp)s/maillog
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PostfixError(Exception):
    pass


class Postfix:
    """One Postfix instance in TMP (made under /tmp unless given)."""

    def __init__(self, lmtp=None, hostname="relay.test", size=50 << 20,
                 extra="", tmp=None, port=None, tls_cert=None):
        self.lmtp = dict(lmtp or {})
        # tls_cert = (cert.pem, key.pem): smtpd offers STARTTLS on `port`
        # and speaks implicit TLS on `smtps_port`
        self.tls_cert = tls_cert
        self.smtps_port = None
        self.hostname = hostname
        self.size = size
        self.extra = extra
        self.own_tmp = tmp is None
        self.tmp = tmp or tempfile.mkdtemp(prefix="roost-postfix.")
        os.chmod(self.tmp, 0o755)
        self.config = os.path.join(self.tmp, "config")
        self.sink = os.path.join(self.tmp, "vmail", "sink")
        self.port = port
        self.running = False

    # ------------------------------------------------------------ lifetime

    def write_config(self):
        os.makedirs(self.config, exist_ok=True)
        for d in ("spool", "data", "vmail"):
            os.makedirs(os.path.join(self.tmp, d), exist_ok=True)
        shutil.chown(os.path.join(self.tmp, "data"), "postfix")
        os.chown(os.path.join(self.tmp, "vmail"), UID, GID)
        with open(os.path.join(self.config, "main.cf"), "w") as f:
            f.write(MAIN_CF % {"tmp": self.tmp, "config": self.config,
                               "hostname": self.hostname, "uid": UID,
                               "gid": GID, "size": self.size,
                               "smtpd_tls": "smtpd_tls_security_level = %s"
                               % ("may" if self.tls_cert else "none")})
            if self.tls_cert:
                f.write("smtpd_tls_cert_file = %s\nsmtpd_tls_key_file = %s\n"
                        "smtpd_tls_received_header = yes\n" % self.tls_cert)
            f.write(self.extra)
        with open(os.path.join(self.config, "master.cf"), "w") as f:
            f.write(MASTER_CF % {"port": "127.0.0.1:%d" % self.port})
            if self.tls_cert:
                f.write("127.0.0.1:%d inet n - n - - smtpd\n"
                        "  -o smtpd_tls_wrappermode=yes\n" % self.smtps_port)
        with open(os.path.join(self.config, "transport"), "w") as f:
            for dom, nexthop in sorted(self.lmtp.items()):
                f.write("%s %s\n" % (dom, nexthop))
        # The queue directories as `post-install create-missing` makes
        # them, and `quick-start`: postfix-script then skips its integrity
        # checks (`postfix check`, postsuper), 3-8 s on a loaded 2-CPU VM.
        spool = os.path.join(self.tmp, "spool")
        pf = shutil.chown
        for d, mode, group in (
                ("active", 0o700, "root"), ("bounce", 0o700, "root"),
                ("corrupt", 0o700, "root"), ("defer", 0o700, "root"),
                ("deferred", 0o700, "root"), ("flush", 0o700, "root"),
                ("hold", 0o700, "root"), ("incoming", 0o700, "root"),
                ("private", 0o700, "root"), ("saved", 0o700, "root"),
                ("trace", 0o700, "root"), ("maildrop", 0o730, "postdrop"),
                ("public", 0o710, "postdrop"), ("pid", 0o755, None)):
            p = os.path.join(spool, d)
            os.makedirs(p, exist_ok=True)
            os.chmod(p, mode)
            if group:
                pf(p, "postfix", group)
        open(os.path.join(spool, "quick-start"), "w").close()

    def start(self, timeout=20):
        if os.geteuid() != 0:
            raise PostfixError("Postfix needs root")
        if not shutil.which("postfix"):
            raise PostfixError("postfix is not installed (make deps)")
        self.port = self.port or free_port()
        if self.tls_cert:
            self.smtps_port = self.smtps_port or free_port()
        self.write_config()
        # `postfix check` would also fix ownerships; `start` runs it too
        r = subprocess.run(["postfix", "-c", self.config, "start"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
        if r.returncode != 0:
            raise PostfixError("postfix -c %s start: %s\n%s" % (
                self.config, r.stdout.decode(errors="replace"),
                self.log()[-2000:]))
        self.running = True
        deadline = time.time() + timeout
        while True:
            try:
                s = socket.create_connection(("127.0.0.1", self.port), 1)
                s.settimeout(5)
                banner = s.recv(512)
                s.close()
                if banner.startswith(b"220"):
                    return self
            except OSError:
                pass
            if time.time() > deadline:
                self.stop()
                raise PostfixError("Postfix did not answer on port %d:\n%s"
                                   % (self.port, self.log()[-2000:]))
            time.sleep(0.1)

    def master_pid(self):
        try:
            with open(os.path.join(self.tmp, "spool", "pid",
                                   "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, remove=True):
        if self.running:
            pid = self.master_pid()
            subprocess.run(["postfix", "-c", self.config, "stop"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
            # `postfix stop` returns before the master has gone
            deadline = time.time() + 10
            while pid and time.time() < deadline:
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.05)
            self.running = False
        if remove and self.own_tmp and not os.environ.get("KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------ the queue

    def queued(self):
        """Queue files in maildrop/incoming/active/deferred/hold."""
        n = []
        for q in QUEUES:
            for root, _dirs, files in os.walk(os.path.join(self.tmp, "spool",
                                                           q)):
                n += [os.path.join(root, f) for f in files]
        return n

    def wait_idle(self, timeout=30):
        """Wait until every queue is empty; True if it got so in time."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.queued():
                return True
            time.sleep(0.05)
        return False

    def postqueue(self):
        """`postqueue -p`: the queue listing ("Mail queue is empty")."""
        return subprocess.run(["postqueue", "-c", self.config, "-p"],
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=30
                              ).stdout.decode(errors="replace")

    def flush(self):
        """`postqueue -f`: retry the deferred mail now."""
        subprocess.run(["postqueue", "-c", self.config, "-f"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=30)

    # ----------------------------------------------------------- injection

    def smtp_send(self, sender, rcpts, msg, **kw):
        """SMTP to Postfix's smtpd -> smtplib's refused-recipients dict."""
        if isinstance(msg, str):
            msg = msg.encode()
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as s:
            return s.sendmail(sender, rcpts, msg, **kw)

    def sendmail(self, sender, rcpts, msg):
        """`sendmail -C DIR -f SENDER -- RCPTS` (maildrop, then pickup)."""
        if isinstance(msg, str):
            msg = msg.encode()
        subprocess.run(["sendmail", "-C", self.config, "-f", sender, "--"]
                       + list(rcpts), input=msg, check=True, timeout=30)

    # --------------------------------------------------------------- output

    def log(self):
        try:
            with open(os.path.join(self.tmp, "maillog"),
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, regex, timeout=20):
        """Wait for a maillog line matching regex -> the match or None."""
        deadline = time.time() + timeout
        while True:
            m = re.search(regex, self.log(), re.M)
            if m or time.time() > deadline:
                return m
            time.sleep(0.05)

    def queue_ids(self, msgid):
        """Queue ids of the messages whose Message-ID is msgid (<...>)."""
        return set(re.findall(r" ([0-9A-F]+): message-id=%s$"
                              % re.escape(msgid), self.log(), re.M))

    def statuses(self, msgid=None):
        """{recipient: [(status, text)]} from the delivery lines of the
        maillog (`QID: to=<r>, ... status=sent (...)`), only those of the
        message with Message-ID msgid if given."""
        ids = self.queue_ids(msgid) if msgid else None
        res = {}
        for m in re.finditer(r" ([0-9A-F]+): to=<([^>]*)>,.* status=(\w+) "
                             r"\((.*)\)$", self.log(), re.M):
            if ids is None or m.group(1) in ids:
                res.setdefault(m.group(2), []).append((m.group(3),
                                                       m.group(4)))
        return res

    def messages(self):
        """The messages delivered into SINK, oldest first, as bytes."""
        files = []
        for sub in ("new", "cur"):
            files += glob.glob(os.path.join(self.sink, sub, "*"))
        files.sort(key=lambda p: (os.stat(p).st_mtime_ns, p))
        out = []
        for p in files:
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def clear_sink(self):
        for sub in ("new", "cur"):
            for p in glob.glob(os.path.join(self.sink, sub, "*")):
                os.unlink(p)

    def wait_messages(self, n, timeout=20):
        """Wait until SINK holds at least n messages -> messages()."""
        deadline = time.time() + timeout
        while True:
            msgs = self.messages()
            if len(msgs) >= n or time.time() > deadline:
                return msgs
            time.sleep(0.05)


class RelaySwitch:
    """A TCP forwarder on a free loopback port in front of a relay (the
    port a submission server is configured to relay to), so a test can
    take the relay down and bring it back without restarting anything:
      up()    accept and forward every byte both ways to 127.0.0.1:target
      down()  close the listening socket (new connections are refused)
              and cut every forwarded connection in both directions
    `target` may be set after the switch is made (e.g. once Postfix has
    started and picked its port)."""

    def __init__(self, target=None):
        import threading
        self._threading = threading
        self.target = target
        self.port = free_port()
        self.lsock = None
        self.conns = []
        self.lock = threading.Lock()
        self.accepted = 0

    def up(self):
        if self.lsock is not None:
            return
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self.lsock = s
        self._threading.Thread(target=self._accept, args=(s,),
                               daemon=True).start()

    def down(self):
        s, self.lsock = self.lsock, None
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        with self.lock:
            conns, self.conns = self.conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def _accept(self, lsock):
        while True:
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            try:
                r = socket.create_connection(("127.0.0.1", self.target), 10)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, r]
                self.accepted += 1
            for a, b in ((c, r), (r, c)):
                self._threading.Thread(target=self._pump, args=(a, b),
                                       daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                d = src.recv(65536)
                if not d:
                    break
                dst.sendall(d)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
