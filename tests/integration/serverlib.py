"""serverlib.py - what the integration tests that start a server from a
temp config share: free loopback ports, a TLS client context that
accepts the test's self-signed certificate, that certificate, and the
passwd-file passdb/userdb blocks of the config. (The servers themselves
are started by each test: their configs differ.)"""
import os
import socket
import ssl
import subprocess


def free_port():
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tls_context():
    """Client side TLS that accepts any certificate (the test's own)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def make_cert(tmp):
    """A self-signed RSA certificate and key as tmp/cert.pem, key.pem."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-keyout", os.path.join(tmp, "key.pem"),
                    "-out", os.path.join(tmp, "cert.pem")],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def passwd_auth(tmp):
    """passdb and userdb blocks reading tmp/passwd (passwd-file)."""
    return """passdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
userdb {
  driver = passwd-file
  args = %(tmp)s/passwd
}
""" % {"tmp": tmp}
