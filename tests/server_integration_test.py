#!/usr/bin/python3
"""learnkv-server integration test: the real binary on free loopback ports, driven by redis-py
(Debian's python3-redis), redis-cli and raw sockets (malformed input, RESP3).

    /usr/bin/python3 tests/server_integration_test.py --server build/bin/learnkv-server \
        --tmpdir /tmp/lkv-it [unittest args, e.g. -k Scan]

Covers every command group, pipelines, MULTI/EXEC, SCAN completeness under concurrent writes
and across a restart, 8 MiB values, binary keys, AUTH, protected mode, limits, Redis's protocol
errors, recovery of every acknowledged write after SIGTERM and after SIGKILL, expired keys
removed by compactions, --accelerator and INFO's accel_ fields, and redis-cli's help built from
COMMAND DOCS. The process and raw-socket helpers are in server_test_support.py.
"""
import argparse
import os
import random
import shutil
import signal
import socket
import sys
import threading
import time
import unittest
import warnings

import redis

import server_test_support as support
from server_test_support import Raw, Server


class SharedServerTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server("shared_" + cls.__name__, "--write_buffer_size=256kb").start()

    @classmethod
    def tearDownClass(cls):
        assert cls.server.stop() == 0

    def setUp(self):
        self.r = self.server.client()
        self.r.flushdb()


class StringCommandsTest(SharedServerTest):
    def test_get_set_options(self):
        r = self.r
        self.assertTrue(r.set("k", "v"))
        self.assertEqual(r.get("k"), b"v")
        self.assertIsNone(r.set("k", "w", nx=True))
        self.assertEqual(r.get("k"), b"v")
        self.assertTrue(r.set("k", "w", xx=True))
        self.assertIsNone(r.set("absent", "x", xx=True))
        self.assertEqual(r.set("k", "z", get=True), b"w")
        self.assertTrue(r.set("e", "1", ex=100))
        self.assertTrue(95 <= r.ttl("e") <= 100)
        self.assertTrue(r.set("e", "2", keepttl=True))
        self.assertTrue(95 <= r.ttl("e") <= 100)
        self.assertTrue(r.set("e", "3"))
        self.assertEqual(r.ttl("e"), -1)
        self.assertTrue(r.set("p", "1", px=100000))
        self.assertTrue(99000 <= r.pttl("p") <= 100000)
        with self.assertRaisesRegex(redis.ResponseError, "syntax error"):
            r.execute_command("SET", "k", "v", "NX", "XX")
        with self.assertRaisesRegex(redis.ResponseError, "invalid expire time in 'set' command"):
            r.execute_command("SET", "k", "v", "EX", "0")
        with self.assertRaisesRegex(redis.ResponseError, "not an integer or out of range"):
            r.execute_command("SET", "k", "v", "EX", "abc")
        with self.assertRaisesRegex(redis.ResponseError, "syntax error"):
            r.execute_command("SET", "k", "v", "EX", "10", "PX", "10")

    def test_getdel_mget_mset_strlen_type(self):
        r = self.r
        self.assertTrue(r.mset({"a": "1", "b": "22", "c": "333"}))
        self.assertEqual(r.mget("a", "b", "nope", "c"), [b"1", b"22", None, b"333"])
        self.assertEqual(r.strlen("c"), 3)
        self.assertEqual(r.strlen("nope"), 0)
        self.assertEqual(r.type("a"), b"string")
        self.assertEqual(r.type("nope"), b"none")
        self.assertEqual(r.getdel("a"), b"1")
        self.assertIsNone(r.getdel("a"))
        with self.assertRaisesRegex(redis.ResponseError,
                                    "wrong number of arguments for 'mset' command"):
            r.execute_command("MSET", "a", "1", "b")

    def test_incr_family(self):
        r = self.r
        self.assertEqual(r.incr("n"), 1)
        self.assertEqual(r.incrby("n", 10), 11)
        self.assertEqual(r.decr("n"), 10)
        self.assertEqual(r.decrby("n", 20), -10)
        r.set("s", "abc")
        with self.assertRaisesRegex(redis.ResponseError, "value is not an integer or out of range"):
            r.incr("s")
        r.set("big", str(2**63 - 1))
        with self.assertRaisesRegex(redis.ResponseError, "increment or decrement would overflow"):
            r.incr("big")
        with self.assertRaisesRegex(redis.ResponseError, "value is not an integer"):
            r.execute_command("INCRBY", "n", "1.5")
        r.set("t", "5", ex=100)
        self.assertEqual(r.incr("t"), 6)
        self.assertGreater(r.ttl("t"), 0)  # INCR keeps the expiry

    def test_concurrent_incr_is_atomic(self):
        def work():
            c = self.server.client()
            p = c.pipeline(transaction=False)
            for _ in range(300):
                p.incr("counter")
            p.execute()
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(self.r.get("counter"), b"1200")

    def test_large_value(self):
        value = os.urandom(8 << 20)
        self.assertTrue(self.r.set("big", value))
        self.assertEqual(self.r.get("big"), value)
        self.assertEqual(self.r.strlen("big"), 8 << 20)

    def test_binary_keys(self):
        keys = [b"\x00", b"\xff", b"\xff\xff", b"\xff\xfflearnkv:x", b"a\r\nb", bytes(range(256))]
        for i, k in enumerate(keys):
            self.r.set(k, b"v%d" % i)
        for i, k in enumerate(keys):
            self.assertEqual(self.r.get(k), b"v%d" % i)
        self.assertEqual(sorted(self.r.scan_iter(count=3)), sorted(keys))
        self.assertEqual(self.r.dbsize(), len(keys))
        self.assertEqual(self.r.delete(*keys), len(keys))
        self.assertEqual(self.r.dbsize(), 0)


class KeyCommandsTest(SharedServerTest):
    def test_del_exists(self):
        r = self.r
        r.mset({"a": 1, "b": 2})
        self.assertEqual(r.exists("a", "b", "a", "c"), 3)
        self.assertEqual(r.delete("a", "c", "a"), 1)
        self.assertEqual(r.exists("a"), 0)

    def test_expire_ttl_persist(self):
        r = self.r
        self.assertEqual(r.ttl("none"), -2)
        r.set("k", "v")
        self.assertEqual(r.ttl("k"), -1)
        self.assertTrue(r.expire("k", 100))
        self.assertTrue(98 <= r.ttl("k") <= 100)
        self.assertFalse(r.execute_command("EXPIRE", "k", "50", "GT"))
        self.assertTrue(r.execute_command("EXPIRE", "k", "50", "LT"))
        self.assertFalse(r.execute_command("EXPIRE", "k", "500", "NX"))
        self.assertTrue(r.execute_command("EXPIRE", "k", "500", "XX"))
        with self.assertRaisesRegex(redis.ResponseError, "not compatible"):
            r.execute_command("EXPIRE", "k", "5", "NX", "XX")
        self.assertTrue(r.persist("k"))
        self.assertFalse(r.persist("k"))
        self.assertEqual(r.ttl("k"), -1)
        self.assertFalse(r.expire("none", 10))
        self.assertTrue(r.pexpire("k", 100000))
        self.assertTrue(99000 <= r.pttl("k") <= 100000)

    def test_expired_keys_are_invisible(self):
        r = self.r
        r.set("short", "v", px=100)
        r.set("long", "v", ex=100)
        r.set("gone", "v")
        self.assertTrue(r.expire("gone", -1))  # a past time deletes at once
        self.assertEqual(r.exists("gone"), 0)
        time.sleep(0.3)
        self.assertIsNone(r.get("short"))
        self.assertEqual(r.exists("short"), 0)
        self.assertEqual(r.ttl("short"), -2)
        self.assertEqual(list(r.scan_iter()), [b"long"])
        self.assertEqual(r.dbsize(), 1)
        self.assertEqual(r.incr("short"), 1)  # a fresh key, without the old expiry
        self.assertEqual(r.ttl("short"), -1)

    def test_scan_options(self):
        r = self.r
        for i in range(100):
            r.set("user:%d" % i, i)
            r.set("item:%d" % i, i)
        self.assertEqual(len(set(r.scan_iter(count=7))), 200)
        self.assertEqual(set(r.scan_iter(match="user:1*", count=10)),
                         {b"user:1"} | {b"user:1%d" % i for i in range(10)})
        self.assertEqual(len(list(r.scan_iter(_type="string"))), 200)
        self.assertEqual(list(r.scan_iter(_type="list")), [])
        cursor, keys = r.scan(0, count=50)
        self.assertNotEqual(cursor, 0)
        self.assertEqual(len(keys), 50)
        with self.assertRaisesRegex(redis.ResponseError, "invalid cursor"):
            r.execute_command("SCAN", "abc")
        with self.assertRaisesRegex(redis.ResponseError, "syntax error"):
            r.execute_command("SCAN", "0", "COUNT", "0")
        self.assertEqual(sorted(r.keys("item:9*")), sorted([b"item:9"] + [b"item:9%d" % i for i in range(10)]))

    def test_scan_complete_under_concurrent_writes(self):
        r = self.r
        stable = [b"stable:%05d" % i for i in range(3000)]
        p = r.pipeline(transaction=False)
        for k in stable:
            p.set(k, "x")
        p.execute()
        stop = threading.Event()

        def churn():
            c = self.server.client()
            rnd = random.Random(1)
            while not stop.is_set():
                p = c.pipeline(transaction=False)
                for _ in range(50):
                    k = "churn:%05d" % rnd.randrange(5000)
                    if rnd.random() < 0.5:
                        p.set(k, "y")
                    else:
                        p.delete(k)
                    p.set(stable[rnd.randrange(len(stable))], "z")  # overwrites
                p.execute()
        t = threading.Thread(target=churn)
        t.start()
        try:
            seen = set(r.scan_iter(count=37))
        finally:
            stop.set()
            t.join()
        self.assertEqual(set(stable) - seen, set())

    def test_flush(self):
        r = self.r
        for i in range(1000):
            r.set("f%d" % i, i)
        self.assertEqual(r.dbsize(), 1000)
        self.assertTrue(r.flushdb())
        self.assertEqual(r.dbsize(), 0)
        r.set("x", 1)
        self.assertTrue(r.flushall())
        self.assertIsNone(r.get("x"))


class PipelineAndTransactionTest(SharedServerTest):
    def test_pipeline(self):
        p = self.r.pipeline(transaction=False)
        for i in range(2000):
            p.set("k%d" % i, i)
            p.get("k%d" % i)
            p.incr("ctr")
        res = p.execute()
        self.assertEqual(res[1::3], [str(i).encode() for i in range(2000)])
        self.assertEqual(res[-1], 2000)

    def test_pipelined_gets_never_see_stale_values(self):
        # Pipelined GETs share buffers from batch to batch (value strings, argument strings,
        # the last command name looked up): a reply must never carry a byte of an earlier one.
        r = self.r
        r.set("big", "b" * 5000)
        r.set("small", "s")
        r.set("soon", "x" * 300, px=200)

        def encode(*args):
            out = b"*%d\r\n" % len(args)
            for a in args:
                a = a if isinstance(a, bytes) else a.encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
            return out

        raw = Raw(self.server.port)
        rounds = [
            ["big"] * 40 + ["soon"] * 3 + ["small"] * 5,
            ["missing"] * 30 + ["small"] * 10,
            ["small", "missing", "big"] * 20,
            ["k" * 300, "small"],
        ]
        for names in rounds:
            raw.send(b"".join(encode(["GET", "get", "GeT"][i % 3], k) for i, k in enumerate(names)))
            values = {"big": b"b" * 5000, "small": b"s", "soon": b"x" * 300}
            self.assertEqual([raw.reply() for _ in names], [values.get(k) for k in names])
        time.sleep(0.3)  # "soon" expires: NotFound where its value stood
        raw.send(encode("GET", "soon") + encode("GET", "small"))
        self.assertEqual([raw.reply(), raw.reply()], [None, b"s"])
        # Unknown and over-long names between GETs are unknown, whatever came before.
        raw.send(encode("GET", "small") + encode("GEX", "small") + encode("get", "small") +
                 encode("G" * 40, "small") + encode("GET", "small"))
        replies = [raw.reply() for _ in range(5)]
        self.assertEqual([replies[0], replies[2], replies[4]], [b"s"] * 3)
        for reply in (replies[1], replies[3]):
            self.assertIsInstance(reply, Exception)
            self.assertTrue(reply.args[0].startswith("ERR unknown command"), reply.args[0])
        raw.close()

    def test_write_batch_reads_its_own_writes(self):
        # Sent in one piece, these writes land in one write batch: each read-modify-write
        # must see the updates before it in that batch (WriteView's index of its own log).
        p = self.r.pipeline(transaction=False)
        p.set("w", "1").append("w", "2").incr("w").getset("w", "a").setnx("w", "b")
        p.getdel("w").setnx("w", "c").get("w")
        p.set(b"\xffw", "x").append(b"\xffw", "y").getdel(b"\xffw").incr(b"\xffw")
        p.set("gone", "v", px=1)
        for _ in range(300):
            p.incr("n")
        p.set("n2", 5).decrby("n2", 7).incrby("n2", 1)
        res = p.execute()
        self.assertEqual(res[:8], [True, 2, 13, b"13", False, b"a", True, b"c"])
        self.assertEqual(res[8:12], [True, 2, b"xy", 1])
        self.assertEqual(res[13:313], list(range(1, 301)))
        self.assertEqual(res[313:], [True, -2, -1])
        time.sleep(0.01)
        self.assertIsNone(self.r.get("gone"))
        self.assertEqual(self.r.get(b"\xffw"), b"1")
        self.assertEqual(self.r.mget("w", "n", "n2"), [b"c", b"300", b"-1"])

    def test_multi_exec(self):
        p = self.r.pipeline(transaction=True)
        p.set("a", "1").incr("a").get("a").mget("a", "b").delete("a")
        self.assertEqual(p.execute(), [True, 2, b"2", [b"2", None], 1])
        self.assertIsNone(self.r.get("a"))

    def test_transaction_errors(self):
        raw = Raw(self.server.port)
        self.assertEqual(raw.command("EXEC").args[0], "ERR EXEC without MULTI")
        self.assertEqual(raw.command("DISCARD").args[0], "ERR DISCARD without MULTI")
        self.assertEqual(raw.command("MULTI"), "OK")
        self.assertEqual(raw.command("MULTI").args[0], "ERR MULTI calls can not be nested")
        self.assertEqual(raw.command("SET", "t", "1"), "QUEUED")
        self.assertIn("unknown command", raw.command("NOSUCH").args[0])
        self.assertEqual(raw.command("EXEC").args[0],
                         "EXECABORT Transaction discarded because of previous errors.")
        self.assertIsNone(self.r.get("t"))
        self.assertEqual(raw.command("MULTI"), "OK")
        self.assertEqual(raw.command("SET", "t", "1"), "QUEUED")
        self.assertEqual(raw.command("DISCARD"), "OK")
        self.assertIsNone(self.r.get("t"))
        self.assertEqual(raw.command("MULTI"), "OK")
        self.assertEqual(raw.command("EXEC"), [])
        raw.close()


class ConnectionAndServerTest(SharedServerTest):
    def test_connection_commands(self):
        r = self.r
        self.assertTrue(r.ping())
        self.assertEqual(r.echo("hi"), b"hi")
        self.assertTrue(r.execute_command("SELECT", "0"))
        with self.assertRaisesRegex(redis.ResponseError, "DB index is out of range"):
            r.execute_command("SELECT", "1")
        self.assertTrue(r.client_setname("me"))
        self.assertIn(r.client_getname(), ("me", b"me"))
        self.assertIsInstance(r.client_id(), int)
        self.assertTrue(r.execute_command("CLIENT", "SETINFO", "LIB-NAME", "redis-py"))
        with self.assertRaisesRegex(redis.ResponseError, "unknown command 'FOO', with args beginning with: 'a' "):
            r.execute_command("FOO", "a")
        with self.assertRaisesRegex(redis.ResponseError, "wrong number of arguments for 'get' command"):
            r.execute_command("GET")

    def test_hello_resp3(self):
        raw = Raw(self.server.port)
        reply = raw.command("HELLO", "3")
        fields = dict(reply["map"])
        self.assertEqual(fields[b"server"], b"redis")
        self.assertGreaterEqual(tuple(int(x) for x in fields[b"version"].split(b".")), (7, 0, 0))
        self.assertEqual(fields[b"proto"], 3)
        self.assertIsNone(raw.command("GET", "missing-key"))
        raw.send(b"GET missing-key\r\n")
        self.assertEqual(raw.buf + raw.sock.recv(100), b"_\r\n")
        raw.buf = b""
        self.assertIsInstance(raw.command("CONFIG", "GET", "port"), dict)
        self.assertIsInstance(raw.command("INFO", "server"), bytes)
        self.assertEqual(raw.command("HELLO", "4").args[0], "NOPROTO unsupported protocol version")
        raw.close()

    def test_info(self):
        info = self.r.info("everything")
        for field in ("redis_version", "connected_clients", "total_commands_processed",
                      "aof_enabled", "learned_tables", "learned_mean_error",
                      "learned_index_bytes", "learned_filter_bytes"):
            self.assertIn(field, info)
        self.r.set("x", "y")
        self.assertIn("db0", self.r.info("keyspace"))
        # Enough data for tables with learned indexes.
        p = self.r.pipeline(transaction=False)
        for i in range(20000):
            p.set("learn:%08d" % i, "v" * 50)
        p.execute()
        deadline = time.time() + 20
        while self.r.info("learned")["learned_tables"] == 0 and time.time() < deadline:
            time.sleep(0.2)
        self.assertGreater(self.r.info("learned")["learned_tables"], 0)
        # No accelerator configured: the engine says so (or, without the property, nothing).
        self.assertEqual(self.r.info("learned").get("accel_accelerator", "off"), "off")
        # everysec: the syncer thread syncs the WAL within about a second of a write.
        syncs = self.r.info("persistence")["wal_syncs"]
        self.r.set("x", "z")
        deadline = time.time() + 5
        while self.r.info("persistence")["wal_syncs"] == syncs and time.time() < deadline:
            time.sleep(0.1)
        self.assertGreater(self.r.info("persistence")["wal_syncs"], syncs)

    def test_config_and_command(self):
        r = self.r
        self.assertEqual(r.config_get("port")["port"], str(self.server.port))
        self.assertIn("appendfsync", r.config_get("append*"))
        self.assertTrue(r.config_set("timeout", "0"))
        with self.assertRaisesRegex(redis.ResponseError, "can't set immutable config"):
            r.config_set("dir", "/tmp")
        with self.assertRaisesRegex(redis.ResponseError, "Unknown option"):
            r.config_set("nosuch", "1")
        self.assertGreater(r.command_count(), 30)
        raw = Raw(self.server.port)
        info = raw.command("COMMAND", "INFO", "get", "nosuch")
        self.assertEqual(info[0][:2], [b"get", 2])
        self.assertIsNone(info[1])
        docs = raw.command("COMMAND", "DOCS", "set")
        self.assertEqual(docs[0], b"set")
        self.assertIn(b"summary", docs[1])
        fields = dict(zip(docs[1][::2], docs[1][1::2]))
        args = [dict(zip(a[::2], a[1::2])) for a in fields[b"arguments"]]
        self.assertEqual([a[b"name"] for a in args],
                         [b"key", b"value", b"condition", b"get", b"expiration"])
        self.assertEqual(args[2][b"type"], b"oneof")
        self.assertEqual(args[2][b"flags"], ["optional"])
        self.assertEqual(args[3][b"token"], b"GET")
        self.assertEqual(len(raw.command("COMMAND")), r.command_count())
        raw.close()

    def test_redis_cli_help_shows_arguments(self):
        """Interactive redis-cli builds its help from COMMAND DOCS (and asserts on its
        types): it must show the arguments, and not crash."""
        import pty
        import select
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.environ["TERM"] = "dumb"  # plain line input: no cursor queries to answer
                os.environ["HOME"] = support.TMPDIR  # no ~/.rediscli_history of the user's
                os.execvp("redis-cli", ["redis-cli", "-p", str(self.server.port)])
            finally:
                os._exit(127)
        out = b""

        def read_until(marker, seconds=10):
            nonlocal out
            deadline = time.time() + seconds
            while marker not in out and time.time() < deadline:
                if select.select([fd], [], [], 0.1)[0]:
                    try:
                        out += os.read(fd, 65536)
                    except OSError:
                        return
        try:
            read_until(b"> ")
            os.write(fd, b"help set\n")
            read_until(b"group:")
            os.write(fd, b"help mset\n")
            read_until(b"key value [key value ...]")
            os.write(fd, b"quit\n")
            read_until(b"\0", seconds=2)
        finally:
            for _ in range(50):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
            os.close(fd)
        text = out.decode("latin-1")
        self.assertIn("key value [NX|XX] [GET] [EX seconds|PX milliseconds|"
                      "EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]", text)
        self.assertIn("key value [key value ...]", text)
        self.assertEqual(status, 0)

    def test_inline_protocol(self):
        raw = Raw(self.server.port)
        raw.send(b'SET inline "hello world"\r\nGET inline\r\n')
        self.assertEqual(raw.reply(), "OK")
        self.assertEqual(raw.reply(), b"hello world")
        raw.send(b"PING\n")
        self.assertEqual(raw.reply(), "PONG")
        raw.close()

    def test_quit(self):
        raw = Raw(self.server.port)
        self.assertEqual(raw.command("QUIT"), "OK")
        self.assertTrue(raw.closed())

    def test_redis_cli(self):
        s = self.server
        self.assertEqual(s.cli("SET", "cli", "v").strip(), "OK")
        self.assertEqual(s.cli("GET", "cli").strip(), "v")
        self.assertIn("redis_version", s.cli("INFO"))
        cmds = "".join("SET pipe:%d %d\r\n" % (i, i) for i in range(1000)).encode()
        out = s.cli("--pipe", stdin=cmds)
        self.assertIn("errors: 0, replies: 1000", out)
        scanned = s.cli("--scan", "--pattern", "pipe:*").split()
        self.assertEqual(len(scanned), 1000)
        self.assertEqual(s.cli("DBSIZE").strip(), "1001")
        self.assertIn("proto", s.cli("-3", "HELLO", "3"))


class ExpiryCompactionTest(unittest.TestCase):
    def test_compactions_remove_expired_keys(self):
        """Keys set with a short PX and never read again leave the tables once a compaction
        rewrites them (the server's compaction filter); live keys and long TTLs stay."""
        s = Server("expiry_compaction", "--write_buffer_size=64kb",
                   "--level0_file_num_compaction_trigger=2", "--target_file_size_base=64kb",
                   "--max_bytes_for_level_base=256kb").start()
        try:
            r = s.client()
            p = r.pipeline(transaction=False)
            for i in range(3000):
                p.set("ttl:%05d" % i, "v" * 100, px=300)
                p.set("ttl:%05d:long" % i, "v" * 10, ex=3600)
            p.execute()
            time.sleep(0.5)
            # New keys across the whole range: every table holding expired keys overlaps a
            # flushed table, so compactions rewrite them all.
            deadline = time.time() + 60
            round_ = 0
            while r.info("stats")["expired_keys_compacted"] < 3000 and time.time() < deadline:
                p = r.pipeline(transaction=False)
                for i in range(0, 3000, 3):
                    p.set("ttl:%05d:new%d" % (i, round_), "n" * 100)
                p.execute()
                round_ += 1
                time.sleep(0.2)
            stats = r.info("stats")
            self.assertEqual(stats["expired_keys_compacted"], 3000)
            self.assertGreaterEqual(stats["expired_keys"], stats["expired_keys_compacted"])
            self.assertEqual(r.dbsize(), 3000 + 1000 * round_)
            longs = ["ttl:%05d:long" % i for i in range(3000)]
            self.assertEqual(r.mget(longs), [b"v" * 10] * 3000)
            self.assertTrue(3500 <= r.ttl("ttl:00042:long") <= 3600)
            self.assertEqual(r.exists("ttl:00042"), 0)
        finally:
            self.assertEqual(s.stop(), 0)


class AcceleratorTest(unittest.TestCase):
    def test_accelerator_flag_and_info(self):
        """--accelerator reaches the engine; INFO's learned section shows its statistics."""
        s = Server("accel", "--accelerator=h200", "--write_buffer_size=256kb").start()
        try:
            r = s.client()
            self.assertEqual(r.config_get("accelerator"), {"accelerator": "h200"})
            p = r.pipeline(transaction=False)
            for i in range(5000):
                p.set("a:%06d" % i, "v" * 50)
            p.execute()
            self.assertEqual(r.mget(["a:%06d" % i for i in range(0, 5000, 7)]),
                             [b"v" * 50] * len(range(0, 5000, 7)))
            info = r.info("learned")
            self.assertIn("h200", str(info["accel_accelerator"]))
            self.assertGreater(len([k for k in info if k.startswith("accel_")]), 1)
        finally:
            self.assertEqual(s.stop(), 0)
        bad = Server("accel_bad", "--accelerator=no-such-device")
        with self.assertRaises(RuntimeError):
            bad.start()
        self.assertEqual(bad.proc.wait(timeout=10), 1)
        bad.log.close()
        with open(bad.dir + ".log", "rb") as log:
            self.assertIn(b"cannot start", log.read())


class ProtocolErrorsTest(SharedServerTest):
    CASES = [
        (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"*1\r\n$-3\r\n", "ERR Protocol error: invalid bulk length"),
        (b"*1\r\n$999999999999\r\n", "ERR Protocol error: invalid bulk length"),
        (b"*1\r\nx3\r\n", "ERR Protocol error: expected '$', got 'x'"),
        (b"SET a \"b\r\n", "ERR Protocol error: unbalanced quotes in request"),
        (b"A" * (70 * 1024), "ERR Protocol error: too big inline request"),
        (b"*" + b"1" * (70 * 1024), "ERR Protocol error: too big mbulk count string"),
    ]

    def test_errors_close_the_connection(self):
        for data, error in self.CASES:
            raw = Raw(self.server.port)
            self.assertEqual(raw.command("PING"), "PONG")
            raw.send(data)
            reply = raw.reply()
            self.assertIsInstance(reply, Exception, data[:20])
            self.assertEqual(reply.args[0], error)
            self.assertTrue(raw.closed(), data[:20])
            raw.close()
        self.assertTrue(self.r.ping())

    def test_announced_bulks_reserve_nothing(self):
        before = self.r.info("memory")["used_memory_rss"]
        conns = []
        for _ in range(20):
            raw = Raw(self.server.port)
            raw.send(b"*2\r\n$3\r\nGET\r\n$536870912\r\nabc")
            conns.append(raw)
        time.sleep(0.5)
        self.assertTrue(self.r.ping())
        after = self.r.info("memory")["used_memory_rss"]
        self.assertLess(after - before, 64 << 20)
        for c in conns:
            c.close()

    def test_random_garbage_never_crashes(self):
        rnd = random.Random(7)
        for _ in range(200):
            raw = Raw(self.server.port)
            raw.send(bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300))))
            raw.close()
        self.assertTrue(self.r.ping())


class AuthTest(unittest.TestCase):
    def test_requirepass(self):
        s = Server("auth", "--requirepass=s3cret").start()
        try:
            raw = Raw(s.port)
            self.assertEqual(raw.command("GET", "k").args[0], "NOAUTH Authentication required.")
            self.assertEqual(raw.command("AUTH", "wrong").args[0],
                             "WRONGPASS invalid username-password pair or user is disabled.")
            self.assertTrue(raw.command("HELLO", "3").args[0].startswith("NOAUTH HELLO must be called"))
            self.assertEqual(raw.command("AUTH", "s3cret"), "OK")
            self.assertIsNone(raw.command("GET", "k"))
            raw.close()
            raw = Raw(s.port)
            self.assertIsInstance(raw.command("HELLO", "3", "AUTH", "default", "s3cret"), dict)
            raw.close()
            # Before AUTH: at most 10 arguments and 16 KiB per bulk.
            raw = Raw(s.port)
            raw.send(b"*11\r\n")
            self.assertEqual(raw.reply().args[0], "ERR Protocol error: unauthenticated multibulk length")
            self.assertTrue(raw.closed())
            raw = Raw(s.port)
            raw.send(b"*2\r\n$4\r\nAUTH\r\n$20000\r\n")
            self.assertEqual(raw.reply().args[0], "ERR Protocol error: unauthenticated bulk length")
            raw.close()
            r = s.client(password="s3cret")
            self.assertTrue(r.set("k", "v"))
            self.assertEqual(r.get("k"), b"v")
            with self.assertRaises((redis.AuthenticationError, redis.ResponseError)):
                s.client(password="bad").ping()
            self.assertEqual(s.cli("-a", "s3cret", "--no-auth-warning", "GET", "k").strip(), "v")
        finally:
            s.stop()

    def test_protected_mode(self):
        s = Server("protected", "--bind=0.0.0.0")
        s.start(wait=False)
        self.assertNotEqual(s.proc.wait(timeout=20), 0)
        s.proc = None
        s.log.close()
        s = Server("protected", "--bind=0.0.0.0", "--protected-mode", "no").start()
        self.assertTrue(s.client().ping())
        self.assertEqual(s.stop(), 0)

    def test_port_in_use(self):
        # SO_REUSEPORT must not let a second server share the port (and half the clients).
        first = Server("port_first").start()
        second = Server("port_second")
        second.port = first.port
        try:
            second.start(wait=False)
            self.assertNotEqual(second.proc.wait(timeout=20), 0)
            second.proc = None
            second.log.close()
            with open(second.dir + ".log", "rb") as log:
                self.assertIn(b"Address already in use", log.read())
            self.assertTrue(first.client().ping())
        finally:
            if second.proc is not None:
                second.stop(signal.SIGKILL)
            self.assertEqual(first.stop(), 0)


class LimitsTest(unittest.TestCase):
    def test_maxclients_and_timeout(self):
        s = Server("limits", "--maxclients=3", "--timeout=1").start()
        try:
            # start()'s readiness probe counts as a client until the server has read its close.
            time.sleep(0.5)
            conns = [Raw(s.port) for _ in range(3)]
            for c in conns:
                self.assertEqual(c.command("PING"), "PONG")
            extra = Raw(s.port)
            self.assertEqual(extra.reply().args[0], "ERR max number of clients reached")
            extra.close()
            time.sleep(2.5)  # idle clients are closed after the timeout
            for c in conns:
                self.assertTrue(c.closed(timeout=3))
            self.assertEqual(Raw(s.port).command("PING"), "PONG")
        finally:
            s.stop()

    def test_slow_reader_is_disconnected(self):
        s = Server("slowreader", "--client_output_buffer_limit=4mb").start()
        try:
            r = s.client()
            r.set("v", b"x" * (512 << 10))
            raw = Raw(s.port)
            raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            raw.send(b"GET v\r\n" * 200)  # 100 MiB of replies, never read
            time.sleep(1)
            self.assertTrue(r.ping())
            self.assertTrue(raw.closed(timeout=5))
            info = r.info("memory")
            self.assertLess(info["used_memory_rss"], 512 << 20)
        finally:
            s.stop()


class DurabilityTest(unittest.TestCase):
    def write_until_killed(self, server, sig, threads=4, seconds=1.5):
        """Writers record every acknowledged SET; the server is then killed with `sig`."""
        acked = [dict() for _ in range(threads)]
        stop = threading.Event()

        def writer(t):
            c = server.client()
            i = 0
            try:
                while not stop.is_set():
                    p = c.pipeline(transaction=(i % 3 == 0))
                    keys = ["w%d:%d" % (t, i + j) for j in range(10)]
                    for k in keys:
                        p.set(k, k + ":value")
                    p.execute()
                    for k in keys:
                        acked[t][k] = k + ":value"
                    i += 10
            except (redis.ConnectionError, redis.TimeoutError, ConnectionError):
                pass
        ts = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
        for t in ts:
            t.start()
        time.sleep(seconds)
        server.stop(sig)
        stop.set()
        for t in ts:
            t.join()
        merged = {}
        for a in acked:
            merged.update(a)
        return merged

    def check_recovered(self, name, sync, sig):
        s = Server(name, "--sync=" + sync, "--write_buffer_size=512kb").start()
        acked = self.write_until_killed(s, sig)
        self.assertGreater(len(acked), 100)
        s2 = Server(name, "--sync=" + sync, keep_dir=True).start()
        try:
            r = s2.client()
            keys = list(acked)
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                self.assertEqual(r.mget(chunk), [acked[k].encode() for k in chunk])
        finally:
            self.assertEqual(s2.stop(), 0)

    def test_sigkill_everysec(self):
        self.check_recovered("kill_everysec", "everysec", signal.SIGKILL)

    def test_sigkill_always(self):
        self.check_recovered("kill_always", "always", signal.SIGKILL)

    def test_sigterm(self):
        self.check_recovered("term", "no", signal.SIGTERM)

    def test_shutdown_command_and_scan_cursor_survive_restart(self):
        s = Server("shutdown").start()
        r = s.client()
        keys = {b"c:%04d" % i for i in range(500)}
        p = r.pipeline(transaction=False)
        for k in keys:
            p.set(k, "v")
        p.execute()
        cursor, first = r.scan(0, count=100)
        self.assertNotEqual(cursor, 0)
        try:
            r.shutdown()
        except redis.ConnectionError:
            pass
        self.assertEqual(s.proc.wait(timeout=30), 0)
        s.proc = None
        s.log.close()
        s = Server("shutdown", keep_dir=True).start()
        try:
            r = s.client()
            seen = set(first)
            while cursor != 0:
                cursor, batch = r.scan(cursor, count=100)
                seen.update(batch)
            self.assertEqual(seen, keys)
        finally:
            s.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--tmpdir", default="/tmp/learnkv-server-it")
    args, rest = parser.parse_known_args()
    tmpdir = os.path.abspath(args.tmpdir)
    support.configure(os.path.abspath(args.server), tmpdir)
    shutil.rmtree(tmpdir, ignore_errors=True)
    os.makedirs(tmpdir, exist_ok=True)
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
