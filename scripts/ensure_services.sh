#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432, trust auth) and Redis (127.0.0.1:6379) answer, starting
# them the Debian way when they do not (see ../shared/docs/ops-validation.md). Idempotent.
# Needs root to start a server; otherwise only reports.
set -uo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  if [ "$(id -u)" = 0 ] && ls /etc/postgresql/*/main >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  elif [ "$(id -u)" = 0 ] && [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    dir=/var/lib/postgresql/codesign-ci
    if [ ! -d "$dir" ]; then
      mkdir -p "$dir" && chown postgres "$dir"
      runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$dir" -U postgres -A trust --no-sync >/dev/null
    fi
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$dir" -w -l "$dir/log" \
      -o "-c listen_addresses=127.0.0.1 -p 5432 -k $dir -c fsync=off" start >/dev/null
  fi
  for _ in $(seq 30); do pg_up && break; sleep 0.5; done
fi
if pg_up; then
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" 2>/dev/null \
    | grep -q 1 || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null 2>&1 || true
  echo "postgresql: answering on 127.0.0.1:5432"
else
  echo "postgresql: NOT answering on 127.0.0.1:5432 (service tests will fail)" >&2
fi

if ! redis_up && command -v redis-server >/dev/null; then
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/codesign-redis.log >/dev/null 2>&1 || true
  for _ in $(seq 30); do redis_up && break; sleep 0.2; done
fi
if redis_up; then
  echo "redis: answering on 127.0.0.1:6379"
else
  echo "redis: NOT answering on 127.0.0.1:6379 (service tests will fail)" >&2
fi
