def test_ping(r):
    assert r.ping()


def test_unknown_command_matches_redis(diff):
    diff.check("nosuchcommand", "a", "b")
    diff.check("get")
    diff.check("ping", "a", "b")
