"""CowMap: copies share buckets until written, and stay independent."""

from __future__ import annotations

from pgpreflight.linter.schema.cowmap import CowMap


def test_copies_are_independent_and_share_untouched_buckets() -> None:
    base: CowMap[str, int] = CowMap()
    for i in range(500):
        base[f"t{i}"] = i
    copy = base.copy()
    copy["t1"] = -1
    del copy["t2"]
    copy["new"] = 7
    base["t3"] = -3
    assert (base["t1"], base["t2"], "new" in base, base["t3"]) == (1, 2, False, -3)
    assert (copy["t1"], "t2" in copy, copy["new"], copy["t3"]) == (-1, False, 7, 3)
    assert (len(base), len(copy)) == (500, 500)
    assert copy.differing_keys(base) >= {"t1", "t2", "t3", "new"}
    assert len(copy.differing_keys(base)) < 100  # only the touched buckets
    assert base.copy().differing_keys(base) == set()
    assert dict(copy.items()) == {**{f"t{i}": i for i in range(500) if i != 2}, "t1": -1, "new": 7}


def test_mapping_behaviour() -> None:
    m: CowMap[tuple[str, str], int] = CowMap()
    m[("public", "a")] = 1
    assert m.get(("public", "a")) == 1 and m.get(("x", "y")) is None and m.get(("x", "y"), 5) == 5
    assert m.pop(("public", "a")) == 1 and m.pop(("public", "a"), None) is None and len(m) == 0
    try:
        del m[("x", "y")]
    except KeyError:
        pass
    else:
        raise AssertionError("deleting a missing key must raise KeyError")


def test_iteration_follows_insertion_like_a_dict() -> None:
    m: CowMap[str, int] = CowMap()
    for name in ["zeta", "alpha", "mid", "beta"]:
        m[name] = len(name)
    m["alpha"] = 0  # replacing keeps the place
    del m["mid"]
    m["mid"] = 9  # re-inserting goes to the end
    assert list(m) == ["zeta", "alpha", "beta", "mid"]
    assert list(m.copy().items()) == [("zeta", 4), ("alpha", 0), ("beta", 4), ("mid", 9)]


def test_append_log_copies_share_storage_and_fork_on_divergence() -> None:
    from pgpreflight.linter.schema.cowmap import AppendLog

    log: AppendLog[str] = AppendLog()
    log.append("a")
    snapshot = log.copy()
    log.append("b")
    assert list(snapshot) == ["a"] and list(log) == ["a", "b"]
    snapshot.append("c")  # the log already grew past the snapshot: the snapshot forks
    assert list(snapshot) == ["a", "c"] and list(log) == ["a", "b"]
    assert log[1:] == ["b"] and log[-1] == "b" and len(snapshot) == 2
