#!/usr/bin/env python3
"""A server started from a Dovecot 2.4 file whose SQL, OAuth2 and dict
settings become 2.3 args files (compat/dialect-dbfile.c) behaves as one
started from the 2.3 file naming those args files: an OAuth2 passdb with
its http client / ssl settings and a cassandra SQL passdb stop the auth
service with the same fatal line (Roost has neither driver), and SQL
dicts (the dict server's, quota_clone's) change nothing a login sees.
`doveconf -n` of both is the same. Needs root (the mail user is nobody).

Env: ROOST = path of build/bin/roost."""
import os
import socket
import unittest

from dialectlib import (Server, chown_tree, maildir, recv_tagged,
                        recv_until, untime, write_passwd)

HEAD_23 = """protocols = imap
listen = 127.0.0.1
base_dir = %(tmp)s/run
state_dir = %(tmp)s/state
log_path = %(tmp)s/log
mail_location = maildir:~/Maildir
first_valid_uid = 1
ssl = no
auth_failure_delay = 0
service anvil {
  chroot =
  user =
}
service imap-login {
  inet_listener imap {
    port = %(imap)d
  }
}
userdb {
  args = %(tmp)s/passwd
  driver = passwd-file
}
"""
HEAD_24 = """dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
protocols = imap
listen = 127.0.0.1
base_dir = %(tmp)s/run
state_dir = %(tmp)s/state
log_path = %(tmp)s/log
mail_driver = maildir
mail_path = ~/Maildir
mailbox_list_drop_noselect = no
submission_max_mail_size = 0
first_valid_uid = 1
ssl = no
auth_failure_delay = 0
service imap-login {
  inet_listener imap {
    port = %(imap)d
  }
}
userdb passwd-file {
  passwd_file_path = %(tmp)s/passwd
}
"""

CASES = {
    "oauth2": (HEAD_23 + """passdb {
  args = %(tmp)s/run/roost-oauth2-passdb-oauth2.conf.ext
  driver = oauth2
}
""", HEAD_24 + """oauth2 {
  introspection_url = https://idp.example.org/introspect
  http_client_request_timeout = 5s
  ssl_client_ca_file = /etc/ssl/certs/ca-certificates.crt
  ssl_client_require_valid_cert = no
  local_validation {
    dict file {
      path = %(tmp)s/keys
    }
  }
}
log_debug = category=oauth2
passdb oauth2 {
}
"""),
    "cassandra": (HEAD_23 + """passdb {
  args = %(tmp)s/run/roost-sql-passdb-sql.conf.ext
  driver = sql
}
""", HEAD_24 + """sql_driver = cassandra
cassandra_hosts = 127.0.0.1
cassandra_keyspace = mail
cassandra_connect_timeout = 1s
passdb sql {
  query = SELECT password FROM users WHERE userid = '%%{user}'
}
"""),
    "dicts": (HEAD_23 + """passdb {
  args = scheme=PLAIN %(tmp)s/passwd
  driver = passwd-file
}
dict {
  quota = mysql:%(tmp)s/run/roost-dict-dict_server-quota.conf.ext
}
mail_plugins = quota quota_clone
plugin {
  quota_clone_dict = pgsql:%(tmp)s/run/roost-dict-quota_clone-sql.conf.ext
}
""", HEAD_24 + """passdb passwd-file {
  passwd_file_path = %(tmp)s/passwd
}
dict_server {
  dict quota {
    driver = sql
    sql_driver = mysql
    mysql 127.0.0.1 {
      dbname = mails
    }
    dict_map priv/quota/storage {
      sql_table = quota
      username_field = username
      value_field bytes {
        type = uint
      }
    }
  }
}
mail_plugins = quota quota_clone
quota_clone {
  dict sql {
    sql_driver = pgsql
    pgsql 127.0.0.1 {
    }
    dict_map priv/quota/messages {
      sql_table = quota
      username_field = username
      value_field messages {
        type = uint
      }
    }
  }
}
"""),
}


def empty_inbox(server):
    """alice (password secret) with an empty INBOX."""
    home = os.path.join(server.tmp, "home")
    maildir(os.path.join(home, "Maildir"))
    chown_tree(home)
    write_passwd(server.tmp, home)


def login(server):
    """The greeting and the LOGIN reply (the auth service's failure
    shows there), with the fatal lines of the log."""
    s = socket.create_connection(("127.0.0.1", server.imap), 10)
    # without an auth service the greeting waits (as Dovecot's)
    s.settimeout(3)
    data = b""
    try:
        out = [recv_until(s, b"\r\n")]
        s.sendall(b"a LOGIN alice secret\r\n")
        data = recv_tagged(s, b"a")
    except socket.timeout:
        out = [b"(timeout)"]
    s.close()
    out.append(untime(data))
    log = server.wait_log(lambda text: "Fatal" in text or
                          b"Logged in" in data, 5)
    fatal = [line.split(": ", 1)[1].strip() for line in log.splitlines()
             if "Fatal" in line]
    return out, [line.replace(server.tmp, "TMP") for line in fatal]


class DialectDbfile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.results = {}
        for name, (conf23, conf24) in CASES.items():
            for dialect, template in (("2.3", conf23), ("2.4", conf24)):
                with Server.launch(template, empty_inbox,
                                   "roost-dialect-db.") as server:
                    cls.results[name, dialect] = (server.doveconf(),
                                                  login(server))

    def check(self, name):
        conf23, (login23, fatal23) = self.results[name, "2.3"]
        conf24, (login24, fatal24) = self.results[name, "2.4"]
        self.assertEqual(conf24, conf23)
        self.assertEqual(login24, login23)
        self.assertEqual(fatal24, fatal23)
        return login23, fatal23

    def test_oauth2(self):
        login, fatal = self.check("oauth2")
        self.assertIn("Fatal: Unknown passdb driver 'oauth2'", fatal)
        self.assertNotIn(b"Logged in", login[1])

    def test_cassandra(self):
        login, fatal = self.check("cassandra")
        self.assertIn("Fatal: Unknown passdb driver 'sql'", fatal)
        self.assertNotIn(b"Logged in", login[1])

    def test_dicts(self):
        login, fatal = self.check("dicts")
        self.assertEqual(fatal, [])
        self.assertIn(b"a OK", login[1])


if __name__ == "__main__":
    unittest.main()
