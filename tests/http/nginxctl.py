"""A private nginx for the http tests: Debian's nginx binary, our config.

Everything lives under one prefix directory in the build tree: the config,
the pid file, the logs, the temp paths and the served files (www/). It
listens on 127.0.0.1 on a free port, runs in the foreground (daemon off)
as a child of the test, dies with it (PR_SET_PDEATHSIG), and is stopped
by Nginx.stop() / the with-block even when the test fails.

Locations (all serve www/):
  /            plain: Range, If-Range, keep-alive
  /slow/       a slow link: limit_rate RATE with 1 KiB output buffers
               (nginx only delays after each write, so small writes make
               the limit smooth instead of one burst per second)
  /norange/    max_ranges 0: Range ignored, every answer a 200 of the file
  /e503/       every request answered 503
  /stall/      requests with a Range header stall (1 byte/s)

The access log (logs/access.log) has one line per request with $status,
$body_bytes_sent, $http_range, $http_if_range and $http_x_fwr_boot, so a
test measures what was sent independently of the device.
"""
import ctypes
import http.client
import os
import signal
import socket
import subprocess
import time

NGINX = "/usr/sbin/nginx"

LOG_FORMAT = ('$msec $connection $connection_requests $request_method '
              '"$uri" $status $body_bytes_sent "$http_range" '
              '"$http_if_range" "$http_x_fwr_boot"')

CONF = """\
# Written by tests/http/nginxctl.py: a private nginx for one test.
{user}
worker_processes 1;
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log info;
events {{ worker_connections 256; }}
http {{
    default_type application/octet-stream;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    log_format fwr '{log_format}';
    access_log {prefix}/logs/access.log fwr;
    keepalive_timeout 60s;
    keepalive_requests 100000;
    sendfile off;
    map $http_range $stall_rate {{ "" 0; default 1; }}
    server {{
        listen 127.0.0.1:{port};
        root {prefix}/www;
        location / {{ }}
        location /slow/ {{
            alias {prefix}/www/;
            limit_rate {rate};
            output_buffers 1 1k;
        }}
        location /norange/ {{
            alias {prefix}/www/;
            max_ranges 0;
        }}
        location /e503/ {{ return 503; }}
        location /stall/ {{
            alias {prefix}/www/;
            limit_rate $stall_rate;
        }}
    }}
}}
"""


class NginxError(RuntimeError):
    pass


def free_port():
    """A port nothing listens on right now (bound once, then released)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def die_with_parent(sig):
    """preexec_fn: the child gets sig when the test process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)


def children_of(pid):
    """Pids whose parent is pid (from /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    return st[st.rindex(")") + 2] != "Z"


class Nginx:
    def __init__(self, prefix, rate="128k"):
        self.prefix = os.path.abspath(prefix)
        self.rate = rate
        self.port = None
        self.proc = None
        self.www = os.path.join(self.prefix, "www")
        self.access_log = os.path.join(self.prefix, "logs", "access.log")
        self.error_log = os.path.join(self.prefix, "logs", "error.log")

    def url(self, path):
        return "http://127.0.0.1:%d/%s" % (self.port, path.lstrip("/"))

    def _write_conf(self):
        for d in ("logs", "tmp", "www"):
            os.makedirs(os.path.join(self.prefix, d), exist_ok=True)
        user = "user root;" if os.geteuid() == 0 else ""
        conf = CONF.format(user=user, prefix=self.prefix, port=self.port,
                           rate=self.rate, log_format=LOG_FORMAT)
        path = os.path.join(self.prefix, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        return path

    def start(self, timeout=10.0):
        if not os.access(NGINX, os.X_OK):
            raise NginxError("%s not found: apt-get install nginx" % NGINX)
        for attempt in range(3):
            self.port = free_port()
            conf = self._write_conf()
            for f in (self.access_log, self.error_log):
                if os.path.exists(f):
                    os.unlink(f)
            out = open(os.path.join(self.prefix, "logs", "stderr.log"), "w")
            self.proc = subprocess.Popen(
                [NGINX, "-p", self.prefix, "-c", conf, "-e", self.error_log],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                preexec_fn=lambda: die_with_parent(signal.SIGTERM))
            out.close()
            # Ready when this nginx serves this probe: a connect alone could
            # reach another listener that took the port meanwhile.
            token = os.urandom(8).hex()
            with open(os.path.join(self.www, ".probe"), "w") as f:
                f.write(token)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if self._probe() == token:
                    return self
                time.sleep(0.02)
            why = self._tail()
            self.stop()
            if "Address already in use" in why and attempt < 2:
                print("nginx: port %d taken meanwhile, another" % self.port)
                continue
            raise NginxError("nginx did not start on 127.0.0.1:%d within "
                             "%.0f s:\n%s" % (self.port, timeout, why))
        raise NginxError("nginx: no free port")

    def _probe(self):
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            c.request("GET", "/.probe")
            r = c.getresponse()
            body = r.read().decode(errors="replace")
            c.close()
            return body if r.status == 200 else None
        except (OSError, http.client.HTTPException):
            return None

    def _tail(self):
        text = ""
        for f in (os.path.join(self.prefix, "logs", "stderr.log"),
                  self.error_log):
            try:
                with open(f) as fh:
                    lines = fh.read().splitlines()
                text += "\n".join("  " + l for l in lines[-8:]) + "\n"
            except OSError:
                pass
        return text

    def workers(self):
        return children_of(self.proc.pid) if self.proc else []

    def stop(self):
        """Graceful stop (logs flushed), then harder; no process left."""
        if not self.proc:
            return
        workers = self.workers()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(2)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        for p in workers:
            if alive(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def log(self):
        """The access log as a list of dicts."""
        entries = []
        try:
            with open(self.access_log) as f:
                lines = f.read().splitlines()
        except OSError:
            return entries
        for line in lines:
            e = parse_log_line(line)
            if e:
                entries.append(e)
        return entries


def parse_log_line(line):
    parts = line.split(" ", 4)
    if len(parts) < 5:
        return None
    rest = parts[4]
    # "uri" status bytes "range" "if-range" "boot"
    q = rest.split('"')
    if len(q) < 9:
        return None
    uri = q[1]
    status, sent = q[2].split()
    return {"msec": float(parts[0]), "conn": int(parts[1]),
            "conn_requests": int(parts[2]), "method": parts[3], "uri": uri,
            "status": int(status), "sent": int(sent), "range": q[3],
            "if_range": q[5], "boot": q[7]}
