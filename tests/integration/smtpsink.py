"""smtpsink.py - a small SMTP server for tests: the relay behind a
submission service. It records every command line it got and every
message (envelope + the exact bytes after un-dot-stuffing), so a test
can check what reached the MTA. Options: the EHLO capabilities to
advertise, implicit TLS or STARTTLS, AUTH PLAIN, XCLIENT, BDAT,
recipients that get rejected ("reject..."), and a "down" mode that
closes connections at once.

Run alone (for a manual try): python3 smtpsink.py PORT"""
import base64
import socket
import ssl
import sys
import threading
import time

DEFAULT_CAPS = ["PIPELINING", "SIZE 10240000", "8BITMIME",
                "ENHANCEDSTATUSCODES", "DSN", "SMTPUTF8", "CHUNKING"]


class Message:
    def __init__(self, mail_from, mail_params, rcpts, data):
        self.mail_from = mail_from
        self.mail_params = mail_params
        self.rcpts = rcpts
        self.data = data

    def __repr__(self):
        return "Message(%r, %r, %d bytes)" % (self.mail_from, self.rcpts,
                                             len(self.data))


class SmtpSink:
    def __init__(self, port=0, caps=None, tls_ctx=None, implicit_tls=False,
                 auth=None, xclient=False, greeting="sink.example ESMTP test sink",
                 queue_id="TEST123"):
        self.caps = list(DEFAULT_CAPS if caps is None else caps)
        self.tls_ctx = tls_ctx
        self.implicit_tls = implicit_tls
        self.auth = auth            # (user, password) required, or None
        self.xclient = xclient
        self.greeting = greeting
        self.queue_id = queue_id
        self.messages = []
        self.lines = []             # every command line, per connection
        self.connections = 0
        self.down = False
        self.drop_at_data = False   # hang up when DATA/BDAT comes
        self.delay_data_reply = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopped = True
        try:
            # wakes the accept() (a plain close() in another thread
            # leaves the socket listening until it returns)
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    def reset(self):
        with self.lock:
            self.messages = []
            self.lines = []
            self.connections = 0

    def wait_messages(self, n, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.02)
        with self.lock:
            return list(self.messages)

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.down:
                conn.close()
                continue
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve_safe, args=(conn,),
                             daemon=True).start()

    def _serve_safe(self, conn):
        try:
            self._serve(conn)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _serve(self, conn):
        if self.implicit_tls:
            conn = self.tls_ctx.wrap_socket(conn, server_side=True)
        f = conn.makefile("rb")
        tls = self.implicit_tls
        authed = self.auth is None

        def send(text):
            conn.sendall(text.encode() + b"\r\n")

        def log(line):
            with self.lock:
                self.lines.append(line)

        send("220 " + self.greeting)
        mail_from, params, rcpts, chunks = None, "", [], None
        while True:
            raw = f.readline(100000)
            if not raw:
                return
            line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
            log(line)
            verb = line.split(" ", 1)[0].upper()
            arg = line[len(verb) + 1:]
            if verb == "EHLO":
                caps = list(self.caps)
                if self.tls_ctx is not None and not tls and \
                        not self.implicit_tls:
                    caps.append("STARTTLS")
                if self.auth is not None:
                    caps.append("AUTH PLAIN LOGIN")
                if self.xclient:
                    caps.append("XCLIENT NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT")
                lines = ["sink.example"] + caps
                for c in lines[:-1]:
                    send("250-" + c)
                send("250 " + lines[-1])
            elif verb == "HELO":
                send("250 sink.example")
            elif verb == "STARTTLS" and self.tls_ctx is not None and not tls:
                send("220 2.0.0 Ready to start TLS")
                conn = self.tls_ctx.wrap_socket(conn, server_side=True)
                f = conn.makefile("rb")
                tls = True
            elif verb == "AUTH":
                parts = arg.split(" ")
                if parts[0].upper() != "PLAIN":
                    send("504 5.5.4 Unsupported")
                    continue
                if len(parts) > 1:
                    resp = parts[1]
                else:
                    send("334 ")
                    resp = f.readline().strip().decode()
                dec = base64.b64decode(resp).split(b"\0")
                log("AUTH-DECODED " + repr(dec))
                if self.auth is not None and len(dec) == 3 and \
                        dec[1].decode() == self.auth[0] and \
                        dec[2].decode() == self.auth[1]:
                    authed = True
                    send("235 2.7.0 Authentication successful")
                else:
                    send("535 5.7.8 Error: authentication failed")
            elif verb == "XCLIENT":
                send("220 sink.example ESMTP test sink")
            elif verb == "MAIL":
                if not authed:
                    send("530 5.7.0 Authentication required")
                    continue
                if mail_from is not None:
                    send("503 5.5.1 Error: nested MAIL command")
                    continue
                rest = arg[5:] if arg.upper().startswith("FROM:") else arg
                addr, _, params = rest.partition(" ")
                mail_from = addr.strip("<>")
                rcpts = []
                send("250 2.1.0 Ok")
            elif verb == "RCPT":
                if mail_from is None:
                    send("503 5.5.1 Error: need MAIL command")
                    continue
                addr = arg[3:].split(" ")[0].strip("<>")
                if addr.startswith("reject"):
                    send("550 5.1.1 <%s>: Recipient address rejected" % addr)
                elif addr.startswith("tempfail"):
                    send("451 4.3.0 <%s>: Temporary failure" % addr)
                else:
                    rcpts.append(addr)
                    send("250 2.1.5 Ok")
            elif verb in ("DATA", "BDAT") and self.drop_at_data:
                return
            elif verb == "DATA":
                if not rcpts:
                    send("554 5.5.1 Error: no valid recipients")
                    continue
                send("354 End data with <CR><LF>.<CR><LF>")
                data = b""
                while True:
                    l = f.readline()
                    if not l:
                        return      # cut off: nothing recorded
                    if l == b".\r\n":
                        break
                    if l.startswith(b"."):
                        l = l[1:]
                    data += l
                if self.delay_data_reply:
                    time.sleep(self.delay_data_reply)
                with self.lock:
                    self.messages.append(Message(mail_from, params, rcpts,
                                                 data))
                send("250 2.0.0 Ok: queued as " + self.queue_id)
                mail_from, rcpts = None, []
            elif verb == "BDAT":
                parts = arg.split()
                size = int(parts[0])
                last = len(parts) > 1 and parts[1].upper() == "LAST"
                chunk = f.read(size) if size > 0 else b""
                if len(chunk) < size:
                    return
                if chunks is None:
                    chunks = b""
                chunks += chunk
                if not last:
                    send("250 2.0.0 Ok: %d octets received" % size)
                    continue
                if not rcpts:
                    send("554 5.5.1 Error: no valid recipients")
                    chunks = None
                    continue
                with self.lock:
                    self.messages.append(Message(mail_from, params, rcpts,
                                                 chunks))
                send("250 2.0.0 Ok: queued as " + self.queue_id)
                mail_from, rcpts, chunks = None, [], None
            elif verb == "RSET":
                mail_from, rcpts, chunks = None, [], None
                send("250 2.0.0 Ok")
            elif verb == "NOOP":
                send("250 2.0.0 Ok")
            elif verb == "VRFY":
                send("252 2.0.0 " + arg)
            elif verb == "QUIT":
                send("221 2.0.0 Bye")
                return
            else:
                send("502 5.5.2 Error: command not recognized")


if __name__ == "__main__":
    sink = SmtpSink(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print("listening on", sink.port)
    try:
        while True:
            time.sleep(1)
            for m in sink.messages:
                print(m)
    except KeyboardInterrupt:
        pass
