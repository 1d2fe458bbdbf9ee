"""The REST API through real HTTP: uvicorn on a loopback port, httpx as the client.

Every route, every error path (422 bounds, 404, 409 with the engine's reason, 413, 503,
504, the catch-all 500), and batching under 32 simultaneous genmoves.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time

import httpx
import numpy as np
import pytest

from engine.analysis import UniformAnalyzer
from engine.coords import from_gtp, to_flat, to_gtp
from engine.game import Game
from engine.player import RandomPlayer
from engine.sgf import dump_game, load_game, parse_collection
from live_server import live_server
from server.app import create_app
from server.settings import Settings

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class SlowAnalyzer(UniformAnalyzer):
    def __init__(self, delay: float) -> None:
        super().__init__(RandomPlayer(seed=0))
        self.delay = delay

    def analyze_many(self, requests, cleanup=False, move_winrates=0):
        time.sleep(self.delay)
        return super().analyze_many(requests, cleanup)


class BrokenAnalyzer(UniformAnalyzer):
    def analyze_many(self, requests, cleanup=False, move_winrates=0):
        raise RuntimeError("boom: secret internals")


@pytest.fixture(scope="module")
def neural(tiny_bundle):
    import torch

    torch.set_num_threads(1)
    app = create_app(Settings(weights=str(tiny_bundle), max_wait_ms=20, max_concurrency=256, threads=1))
    with live_server(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def rnd():
    with live_server(create_app(Settings(weights="random", seed=0, max_body_bytes=8192))) as url:
        with httpx.Client(base_url=url, timeout=60) as client:
            yield client


def replay(moves: list, size: int = 9) -> Game:
    g = Game(size)
    for c, v in moves:
        g.play(from_gtp(v, size), 1 if c == "B" else 2)
    return g


def random_moves(n: int, seed: int, size: int = 9) -> list[list[str]]:
    g, p = Game(size), RandomPlayer(seed)
    out = []
    for _ in range(n):
        m = p.genmove(g, g.to_play)
        out.append(["B" if g.to_play == 1 else "W", to_gtp(m, size)])
        g.play(m, g.to_play)
    return out


# ------------------------------------------------------------------ meta
def test_healthz_version_docs_and_openapi(neural, tiny_bundle):
    from models.player import DEFAULT_BRANCHES

    h = neural.get("/healthz").json()
    assert h["status"] == "ok" and {"batches", "largest", "sizes", "mean_batch"} <= set(h["batcher"])
    v = neural.get("/version").json()
    assert v["player_9x9"] == "videoworld" and v["manifest"]["board_size"] == 9
    assert v["batching"] == {"max_batch": 16, "max_wait_ms": 20.0, "max_hold_ms": 100.0, "workers": 2}  # defaults but the wait
    assert v["fallback"] == {"player": "montecarlo", "mc_playouts": 10000, "mc_search": "tree",
                             "mc_playout_policy": "mogo", "mc_max_seconds": 5.0}  # the defaults
    assert v["search"] == {"kind": "puct", "visits": 1}  # the network alone unless the service opts in
    assert v["manifest"] == json.loads((tiny_bundle / "manifest.json").read_text())
    # what the player uses: the bundle's tuned value, else NeuralPlayer's default
    assert v["branches"] == v["manifest"].get("player", {}).get("branches", DEFAULT_BRANCHES)
    assert v["symmetries"] == v["manifest"].get("player", {}).get("symmetries", 1)
    assert v["precision"] == "fp32"  # as trained unless the service opts in
    assert neural.get("/docs").status_code == 200
    paths = set(neural.get("/openapi.json").json()["paths"])
    assert {"/v1/genmove", "/v1/analyze", "/v1/games", "/v1/games/{game_id}", "/v1/games/{game_id}/moves",
            "/v1/games/{game_id}/genmove", "/v1/games/{game_id}/undo", "/v1/games/{game_id}/sgf",
            "/v1/games/{game_id}/position.png", "/v1/games/{game_id}/imagined.png", "/v1/position.png",
            "/v1/imagined.png", "/healthz", "/version"} <= paths
    page = neural.get("/", follow_redirects=True)
    assert page.status_code == 200 and "videoworld-go" in page.text


# ------------------------------------------------------------------ stateless queries
def test_genmove_answers_a_legal_move_and_says_the_model_played(neural):
    moves = random_moves(7, seed=1)
    r = neural.post("/v1/genmove", json={"moves": moves, "komi": 6.5})
    assert r.status_code == 200, r.text
    out = r.json()
    g = replay(moves)
    assert out["player"] == "videoworld" and out["color"] == "W" and out["board_size"] == 9
    assert g.position.is_legal(from_gtp(out["move"], 9), 2)
    assert out["raw_legal"] == g.position.is_legal(from_gtp(out["raw_move"], 9), 2)
    assert 0 <= out["winrate"] <= 1


def test_analyze_reports_moves_policy_winrate_and_latent_codes(neural, tiny_bundle):
    moves = random_moves(4, seed=2)
    out = neural.post("/v1/analyze", json={"moves": moves, "top_k": 5, "include_policy": True,
                                           "to_play": "b"}).json()
    assert out["color"] == "B" and len(out["policy"]) == 82 and abs(sum(out["policy"]) - 1) < 1e-3
    probs = [m["prob"] for m in out["top_moves"]]
    assert len(probs) == 5 and probs == sorted(probs, reverse=True) and out["move"] == out["top_moves"][0]["move"]
    g = replay(moves)
    for m in out["top_moves"]:
        move = from_gtp(m["move"], 9)
        assert g.position.is_legal(move, 1) and abs(m["raw_prob"] - out["policy"][to_flat(move, 9)]) < 1e-6
    # the tiny bundle has a value model: each listed move carries the winrate after it
    assert all(0 <= m["winrate"] <= 1 for m in out["top_moves"]) and len({m["winrate"] for m in out["top_moves"]}) > 1
    horizon = json.loads((tiny_bundle / "manifest.json").read_text())["layout"]["horizon"]
    assert len(out["z_codes"]) == horizon and len(out["imagined_board"]) == 9
    assert all(len(row) == 9 and set(row) <= set(".XO") for row in out["imagined_board"])


def test_analyze_returns_the_ownership_map_from_the_askers_side(rnd):
    # Black's area on the left (columns A-D), White's on the right, with a dead stone of each inside
    # the other's (White's B5, Black's H5): the map is the count's, whoever the player is.
    black = [["B", f"D{r}"] for r in range(1, 10)] + [["B", "H5"]]
    white = [["W", f"E{r}"] for r in range(1, 10)] + [["W", "B5"]]
    body = {"initial_stones": black + white, "to_play": "W", "include_ownership": True}
    out = rnd.post("/v1/analyze", json=body).json()
    grid = np.array(out["ownership"]).reshape(9, 9)  # top row (A9..J9) first, White's side
    assert (grid[:, :4] < -0.9).all() and (grid[:, 4:] > 0.9).all()
    assert rnd.post("/v1/analyze", json={**body, "include_ownership": False}).json()["ownership"] is None
    bad = rnd.post("/v1/analyze", json={**body, "include_ownership": "maybe"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("body.include_ownership:")
    gid = rnd.post("/v1/games", json={}).json()["id"]
    for move in ("D5", "E5"):
        assert rnd.post(f"/v1/games/{gid}/moves", json={"move": move}).status_code == 200
    game_map = rnd.post(f"/v1/games/{gid}/analyze", json={"include_ownership": True, "color": "B"}).json()["ownership"]
    assert len(game_map) == 81 and game_map[4 * 9 + 3] == 1.0 and game_map[4 * 9 + 4] == -1.0  # D5 Black's, E5 White's


def test_other_board_sizes_are_answered_by_the_monte_carlo_fallback(neural):
    out = neural.post("/v1/analyze", json={"board_size": 13, "moves": [["B", "G7"]]}).json()
    # the network plays 9x9 only: 13x13 gets Monte Carlo over the rules (a tree search), with its playouts' winrates
    assert out["player"] == "montecarlo" and 0.0 <= out["winrate"] <= 1.0 and out["z_codes"] == []
    assert out["top_moves"] and all(0.0 <= m["winrate"] <= 1.0 for m in out["top_moves"])
    assert out["move"] != "G7" and out["move"] == out["top_moves"][0]["move"]


def test_temperature_zero_plays_the_most_likely_legal_move(neural):
    out = neural.post("/v1/analyze", json={"temperature": 0, "top_k": 1}).json()
    assert out["move"] == out["top_moves"][0]["move"]
    hot = neural.post("/v1/genmove", json={"temperature": 5}).json()
    assert Game(9).position.is_legal(from_gtp(hot["move"], 9))


@pytest.mark.parametrize("t", [2.421006257208346e-154, 1e-300, 5e-324])
def test_a_tiny_temperature_plays_the_most_likely_move(neural, t):
    # schemathesis sent 2.4e-154: the float32 distribution turned it into 0 and the draw into NaN (a 500)
    best = neural.post("/v1/analyze", json={"temperature": 0}).json()["move"]
    assert neural.post("/v1/genmove", json={"temperature": t}).json()["move"] == best
    game = neural.post("/v1/games", json={}).json()["id"]
    r = neural.post(f"/v1/games/{game}/genmove", json={"temperature": t})
    assert r.status_code == 200 and r.json()["move"] == best


def test_positions_from_sgf_and_from_initial_stones(neural):
    moves = random_moves(6, seed=3)
    sgf = dump_game(replay(moves)).decode()
    out = neural.post("/v1/analyze", json={"sgf": sgf}).json()
    assert out["color"] == "B" and replay(moves).position.is_legal(from_gtp(out["move"], 9), 1)
    setup = {"initial_stones": [["B", "C3"], ["B", "D4"], ["W", "E5"]], "to_play": "W"}
    out = neural.post("/v1/analyze", json=setup).json()
    assert out["color"] == "W" and out["move"] not in ("C3", "D4", "E5")
    png = neural.post("/v1/position.png?resolution=90", json=setup)
    assert png.headers["content-type"] == "image/png" and png.content.startswith(PNG_MAGIC)
    img = neural.post("/v1/imagined.png", json=setup)
    assert img.status_code == 200 and img.content.startswith(PNG_MAGIC)


# ------------------------------------------------------------------ games
def test_a_game_from_creation_to_deletion(neural):
    r = neural.post("/v1/games", json={"komi": 5.5})
    assert r.status_code == 201
    game = r.json()
    gid = game["id"]
    assert r.headers["location"] == f"/v1/games/{gid}" and game["to_play"] == "B" and game["player"] == "videoworld"
    assert neural.get(f"/v1/games/{gid}").json() == game
    state = neural.post(f"/v1/games/{gid}/moves", json={"move": "e5"}).json()
    assert state["board"][4] == "....X...." and state["last_move"] == "E5" and state["to_play"] == "W"
    answer = neural.post(f"/v1/games/{gid}/genmove", json={}).json()
    assert answer["player"] == "videoworld" and answer["color"] == "W" and answer["move"] != "E5"
    assert answer["game"]["moves"] == [["B", "E5"], ["W", answer["move"]]]
    hint = neural.post(f"/v1/games/{gid}/analyze", json={"top_k": 3}).json()
    assert hint["color"] == "B" and len(hint["top_moves"]) == 3
    for path in ("position.png", "imagined.png?resolution=128"):
        png = neural.get(f"/v1/games/{gid}/{path}")
        assert png.status_code == 200 and png.content.startswith(PNG_MAGIC), path
    sgf = neural.get(f"/v1/games/{gid}/sgf")
    assert sgf.headers["content-type"].startswith("application/x-go-sgf")
    assert [m for _, m in load_game(sgf.content).moves] == [from_gtp("E5", 9), from_gtp(answer["move"], 9)]
    assert parse_collection(sgf.content)[0].result == ""  # in progress: no RE a viewer would take for the outcome
    assert neural.post(f"/v1/games/{gid}/undo").json()["moves"] == [["B", "E5"]]
    assert neural.delete(f"/v1/games/{gid}").status_code == 204
    assert neural.get(f"/v1/games/{gid}").status_code == 404


def test_a_finished_game_is_counted_with_its_dead_stones_off(rnd):
    # Black's area left of the D column, White's right of E; B5 (White) and H5 (Black) are dead.
    stones = ([["B", f"D{r}"] for r in range(1, 10)] + [["W", f"E{r}"] for r in range(1, 10)]
              + [["W", "B5"], ["B", "H5"]])
    gid = rnd.post("/v1/games", json={"komi": 7, "initial_stones": stones}).json()["id"]
    state = rnd.post(f"/v1/games/{gid}/moves", json={"move": "pass"}).json()
    assert state["over"] is False and state["score"] is None and state["dead"] == []
    state = rnd.post(f"/v1/games/{gid}/moves", json={"move": "pass"}).json()
    assert state["over"] is True and state["result"] == "W+7"  # Tromp-Taylor, dead stones standing
    assert state["score"] == "W+16" and sorted(state["dead"]) == ["B5", "H5"]  # 36 - 45 - 7
    assert rnd.get(f"/v1/games/{gid}").json() == state  # a second read: the same count
    assert parse_collection(rnd.get(f"/v1/games/{gid}/sgf").content)[0].result == "W+16"
    refused = rnd.post(f"/v1/games/{gid}/moves", json={"move": "A1"})
    assert refused.status_code == 409 and "undo" in refused.json()["detail"]


def test_illegal_moves_on_a_game_are_409_with_the_engines_reason(rnd):
    # A ko on 5x5: Black takes at C4, White may not retake at B4 at once; White A5 is suicide.
    stones = [["B", "B5"], ["B", "A4"], ["B", "B3"], ["W", "C5"], ["W", "D4"], ["W", "C3"], ["W", "B4"]]
    gid = rnd.post("/v1/games", json={"board_size": 5, "initial_stones": stones}).json()["id"]
    state = rnd.post(f"/v1/games/{gid}/moves", json={"move": "C4"}).json()
    assert state["captures"] == {"B": 1, "W": 0}
    for move, reason in (("B4", "ko"), ("C4", "occupied"), ("A5", "suicide")):
        r = rnd.post(f"/v1/games/{gid}/moves", json={"move": move, "color": "W"})
        assert r.status_code == 409 and r.json() == {"detail": f"illegal move: {reason}", "reason": reason}
    r = rnd.post(f"/v1/games/{gid}/moves", json={"move": "I3"})  # GTP has no I column
    assert r.status_code == 422 and "invalid vertex" in r.json()["detail"]


def test_finished_games_and_empty_undo_are_409(rnd):
    gid = rnd.post("/v1/games", json={"board_size": 7}).json()["id"]
    r = rnd.post(f"/v1/games/{gid}/undo")
    assert r.status_code == 409 and r.json()["detail"] == "nothing to undo"
    rnd.post(f"/v1/games/{gid}/moves", json={"move": "pass"})
    state = rnd.post(f"/v1/games/{gid}/moves", json={"move": "pass"}).json()
    assert state["over"] and state["result"] == "W+7"
    for path, body in (("moves", {"move": "D4"}), ("genmove", {})):
        r = rnd.post(f"/v1/games/{gid}/{path}", json=body)
        assert r.status_code == 409 and r.json()["detail"].startswith("game is over")
    assert not rnd.post(f"/v1/games/{gid}/undo").json()["over"]
    resigned = rnd.post(f"/v1/games/{gid}/moves", json={"move": "resign"}).json()
    assert resigned["over"] and resigned["result"] == "B+R"


def test_random_server_plays_every_size_and_games_are_forgotten_beyond_max_games():
    with live_server(create_app(Settings(weights="random", max_games=2, seed=1))) as url, httpx.Client(base_url=url) as c:
        ids = [c.post("/v1/games", json={"board_size": n}).json()["id"] for n in (2, 19, 25)]
        assert c.get(f"/v1/games/{ids[0]}").status_code == 404
        out = c.post(f"/v1/games/{ids[2]}/genmove").json()
        assert out["player"] == "random" and out["game"]["move_number"] == 1
        version = c.get("/version").json()
        assert version["manifest"] is None and version["branches"] is None and version["symmetries"] is None
        assert version["precision"] is None


def test_concurrent_genmoves_on_one_game_are_applied_one_after_the_other(rnd):
    gid = rnd.post("/v1/games", json={"board_size": 5}).json()["id"]

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=str(rnd.base_url), timeout=60) as c:
            return await asyncio.gather(*(c.post(f"/v1/games/{gid}/genmove", json={}) for _ in range(12)))

    answers = asyncio.run(fire())
    assert all(r.status_code == 200 for r in answers)
    game = rnd.get(f"/v1/games/{gid}").json()
    assert game["move_number"] == 12 and [c for c, _ in game["moves"]] == ["B", "W"] * 6
    assert sorted(r.json()["game"]["move_number"] for r in answers) == list(range(1, 13))


@pytest.mark.parametrize("method,path", [
    ("GET", ""), ("DELETE", ""), ("POST", "/moves"), ("POST", "/genmove"), ("POST", "/analyze"), ("POST", "/undo"),
    ("GET", "/sgf"), ("GET", "/position.png"), ("GET", "/imagined.png")])
def test_an_unknown_game_id_is_404_on_every_route(rnd, method, path):
    body = {"move": "D4"} if path == "/moves" else None
    r = rnd.request(method, f"/v1/games/no-such-game{path}", json=body)
    assert r.status_code == 404 and r.json()["detail"] == "no game 'no-such-game'"


@pytest.mark.parametrize("method, path, allow", [
    ("PUT", "/v1/games/some-id", "DELETE, GET"), ("OPTIONS", "/v1/games/some-id", "DELETE, GET"),
    ("GET", "/v1/genmove", "POST"), ("POST", "/healthz", "GET"), ("DELETE", "/v1/games/some-id/sgf", "GET")])
def test_a_wrong_method_is_405_and_allow_lists_every_route_of_the_path(rnd, method, path, allow):
    # /v1/games/{id} is two routes (GET, DELETE): Starlette's Allow named the first only (schemathesis ST205)
    r = rnd.request(method, path)
    assert r.status_code == 405 and r.headers["allow"] == allow and r.json() == {"detail": "Method Not Allowed"}


# ------------------------------------------------------------------ bad input
BAD = [
    ({"board_size": 1}, "board_size"), ({"board_size": 26}, "board_size"), ({"board_size": "nine"}, "board_size"),
    ({"komi": 1e9}, "komi"), ({"temperature": -0.1}, "temperature"), ({"temperature": 10.5}, "temperature"),
    ({"top_k": 0}, "top_k"), ({"board_size": 2, "moves": [["B", "pass"]] * 17}, "4*N*N"),
    ({"moves": [["X", "D4"]]}, "moves"), ({"moves": [["B", "Z9"]]}, "move 1"), ({"moves": [["B", "J10"]]}, "off"),
    ({"moves": [["B", "D4"], ["W", "D4"]]}, "move 2 (W D4) is illegal: occupied"),
    ({"moves": [["B", "resign"]]}, "resign"), ({"moves": [["B", "D4"], ["W"]]}, "moves"),
    ({"rules": "japanese"}, "rules"), ({"board_sise": 9}, "board_sise"), ({"sgf": "not an sgf"}, "sgf"),
    ({"sgf": "(;GM[1]SZ[9];B[ee];W[ee])"}, "illegal"), ({"sgf": "(;SZ[9])", "moves": [["B", "D4"]]}, "either"),
    ({"sgf": "(;SZ[9])", "board_size": 13}, "differs"), ({"to_play": "X"}, "to_play"),
    ({"initial_stones": [["B", "D4"], ["W", "D4"]]}, "twice"), ({"initial_stones": [["B", "pass"]]}, "pass"),
    ({"board_size": 2, "initial_stones": [["B", "A1"]] * 5}, "initial stones"),
]


@pytest.mark.parametrize("body,reason", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_queries_are_422_with_a_reason(rnd, body, reason):
    r = rnd.post("/v1/analyze", json=body)
    assert r.status_code == 422, r.text
    assert reason in r.json()["detail"]


@pytest.mark.parametrize("raw", [b'{"komi": NaN}', b'{"komi": Infinity}', b'{"temperature": -Infinity}',
                                 b"{not json", b"[1, 2]", b'"just a string"'])
def test_malformed_json_is_422(rnd, raw):
    r = rnd.post("/v1/analyze", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"]


def test_a_body_that_is_not_text_is_400(rnd):
    r = rnd.post("/v1/analyze", content=b"\xff\xfe\x00", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["detail"] == "There was an error parsing the body"


def test_a_png_too_small_for_the_board_is_422(rnd):
    r = rnd.post("/v1/position.png?resolution=40", json={"board_size": 19})
    assert r.status_code == 422 and "too small" in r.json()["detail"]
    assert rnd.post("/v1/position.png?resolution=4", json={}).status_code == 422


def test_fuzzed_requests_never_get_a_500(rnd):
    rng = random.Random(5)
    values = [None, 0, -1, 2, 9, 26, 1e308, -1e308, "", "B", "W", "pass", "D4", "resign", "zz", [], {}, [["B"]],
              [["B", "D4"]], [["W", "A1"], ["B", "A1"]], "(;SZ[9]", "(;SZ[30])", "(;SZ[9]KM[inf])", True, "\x00"]
    fields = ["board_size", "komi", "rules", "moves", "sgf", "initial_stones", "to_play", "temperature", "top_k",
              "include_policy", "include_ownership", "move", "color"]
    gid = rnd.post("/v1/games", json={}).json()["id"]
    paths = ["/v1/analyze", "/v1/genmove", "/v1/games", f"/v1/games/{gid}/moves", f"/v1/games/{gid}/genmove",
             "/v1/position.png"]
    for _ in range(150):
        body = {rng.choice(fields): rng.choice(values) for _ in range(rng.randint(0, 4))}
        r = rnd.post(rng.choice(paths), json=body)
        assert r.status_code < 500, (body, r.status_code, r.text)


def test_a_body_over_the_limit_is_413_declared_or_chunked(rnd):
    big = {"sgf": "(;SZ[9]" + "C[x]" * 3000 + ")"}
    r = rnd.post("/v1/analyze", json=big)
    assert r.status_code == 413 and "8192 bytes" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit must hold while the body streams in
        yield b'{"sgf": "'
        for _ in range(100):
            yield b"x" * 100
        yield b'"}'

    r = rnd.post("/v1/analyze", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "8192 bytes" in r.json()["detail"]
    assert rnd.post("/v1/analyze", json={}).status_code == 200  # the server is fine afterwards


# ------------------------------------------------------------------ load: 503, 504, 500
def test_the_concurrency_limit_answers_503_and_leaves_health_checks_alone():
    app = create_app(Settings(max_concurrency=2, max_batch=1, max_wait_ms=0), analyzer=SlowAnalyzer(0.6))
    with live_server(app) as url, httpx.Client(base_url=url, timeout=60) as c:
        results: list[int] = []
        threads = [threading.Thread(target=lambda: results.append(c.post("/v1/genmove", json={}).status_code))
                   for _ in range(2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while c.get("/healthz").json()["in_flight"] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        r = c.post("/v1/genmove", json={})
        assert r.status_code == 503 and r.headers["retry-after"] == "1" and "busy" in r.json()["detail"]
        assert c.get("/healthz").status_code == 200
        for t in threads:
            t.join()
        assert results == [200, 200]


def test_a_model_slower_than_the_request_timeout_is_504():
    app = create_app(Settings(request_timeout_s=0.2, max_wait_ms=0), analyzer=SlowAnalyzer(1.0))
    with live_server(app) as url, httpx.Client(base_url=url, timeout=60) as c:
        start = time.monotonic()
        r = c.post("/v1/genmove", json={})
        assert r.status_code == 504 and "0.2 s" in r.json()["detail"]
        assert time.monotonic() - start < 0.9


def test_an_unexpected_error_is_a_json_500_without_internals():
    app = create_app(Settings(), analyzer=BrokenAnalyzer(RandomPlayer(0)))
    with live_server(app) as url, httpx.Client(base_url=url) as c:
        r = c.post("/v1/genmove", json={})
        assert r.status_code == 500 and r.headers["content-type"] == "application/json"
        assert r.json()["detail"].startswith("internal error (id ") and "boom" not in r.text
        assert c.get("/healthz").json()["status"] == "ok"  # the server keeps serving


# ------------------------------------------------------------------ batching under load
def test_32_simultaneous_genmoves_are_batched_and_each_answered_right(neural, tiny_bundle):
    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    positions = [random_moves(n % 12, seed=n) for n in range(32)]

    async def fire() -> list[dict]:
        async with httpx.AsyncClient(base_url=str(neural.base_url), timeout=120) as c:
            rs = await asyncio.gather(*(c.post("/v1/analyze", json={"moves": m, "top_k": 2}) for m in positions))
        assert all(r.status_code == 200 for r in rs), [r.text for r in rs if r.status_code != 200]
        return [r.json() for r in rs]

    before = neural.get("/healthz").json()["batcher"]
    answers = asyncio.run(fire())
    after = neural.get("/healthz").json()["batcher"]
    assert after["requests"] - before["requests"] == 32
    assert after["batches"] - before["batches"] < 32 and after["largest"] > 1  # grouped, not one by one
    reference = NeuralPlayer(load_bundle(tiny_bundle), top_k=Settings().branches)
    for moves, out in zip(positions, answers):
        g = replay(moves)
        alone = reference.analyze_many([(g, g.to_play)])[0]
        got = from_gtp(out["move"], 9)
        assert g.position.is_legal(got, g.to_play)
        # The same move as one position alone, or a tie within float noise of batched arithmetic.
        p = alone.legal_probs
        assert got == alone.move or abs(p[to_flat(got, 9)] - p[to_flat(alone.move, 9)]) < 1e-4
        assert abs(out["winrate"] - alone.winrate) < 1e-4
        assert np.isclose(out["top_moves"][0]["prob"], alone.legal_probs.max(), atol=1e-4)


# ------------------------------------------------------------------ the entry point
def _serve(args: list[str], env_extra: dict | None = None, timeout: float = 120.0):
    """`videoworld-go serve ARGS` on a free loopback port, waited for until /healthz answers:
    (process, port). The caller terminates it."""
    import os
    import socket
    import subprocess
    import sys

    from conftest import REPO

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", *args, "--port", str(port)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return proc, port
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"server did not start: {proc.communicate(timeout=30)[1][-2000:]}")
            time.sleep(0.1)


def test_serve_command_runs_the_app_and_takes_its_host_from_the_environment(tmp_path):
    """`videoworld-go serve`: the Docker image sets VIDEOWORLD_HOST=0.0.0.0 so a published port reaches it."""
    import subprocess
    import sys

    from conftest import REPO

    proc, port = _serve(["--player", "random"], {"VIDEOWORLD_HOST": "0.0.0.0"}, timeout=60)
    try:
        assert httpx.post(f"http://127.0.0.1:{port}/v1/genmove", json={"board_size": 5}).json()["player"] == "random"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert f"on http://0.0.0.0:{port}" in err
    bad = subprocess.run([sys.executable, "-m", "engine.cli", "serve", "--player", "neural", "--weights",
                          str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "no model bundle" in bad.stderr


def test_serve_branches_option_reaches_the_player_and_is_bounded(tiny_bundle):
    """`serve --branches N` trades strength for throughput; /version reports the value in force."""
    import subprocess
    import sys

    from conftest import REPO

    proc, port = _serve(["--weights", str(tiny_bundle), "--branches", "2", "--symmetries", "4", "--workers", "3",
                         "--precision", "bf16", "--max-batch", "12", "--max-hold-ms", "-1", "--visits", "3",
                         "--mc-search", "flat",
                         "--mc-playouts", "200", "--mc-max-seconds", "2.5"])
    try:
        version = httpx.get(f"http://127.0.0.1:{port}/version").json()
        assert version["fallback"] == {"player": "montecarlo", "mc_playouts": 200, "mc_search": "flat",
                                       "mc_playout_policy": "uniform", "mc_max_seconds": 2.5}  # flat: no patterns
        assert version["branches"] == 2 and version["symmetries"] == 4 and version["player_9x9"] != "random"
        assert version["precision"] == "bf16"  # the network imagines with its bf16 copy (models/low_precision.py)
        assert version["visits"] == 3 and version["player_9x9"].endswith("-v3")  # the search around the network
        assert version["batching"] == {"max_batch": 12, "max_wait_ms": 5.0, "max_hold_ms": None, "workers": 3}
        out = httpx.post(f"http://127.0.0.1:{port}/v1/genmove", json={"board_size": 9}).json()
        assert out["player"] != "random" and out["move"]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    bad = subprocess.run([sys.executable, "-m", "engine.cli", "serve", "--weights", str(tiny_bundle),
                          "--branches", "65"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "branches" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "engine.cli", "serve", "--weights", str(tiny_bundle),
                          "--symmetries", "3"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--symmetries" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "engine.cli", "serve", "--weights", str(tiny_bundle),
                          "--precision", "fp16"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--precision" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "engine.cli", "serve", "--weights", str(tiny_bundle),
                          "--visits", "0"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "visits" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "engine.cli", "serve", "--weights", str(tiny_bundle),
                          "--search", "mc", "--visits", "3"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "visits" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "engine.cli", "serve", "--weights", str(tiny_bundle),
                          "--mc-search", "uct"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--mc-search" in bad.stderr


def test_the_shipped_network_can_serve_the_monte_carlo_search_it_steers():
    """`serve --search mc`: GTP's default player (models/steered_mc.py) behind the REST routes, opted in.
    The answer is the search's (its most visited move; the top moves are visit shares) and keeps the
    network's own reading (its raw move and latent codes); /version says which search runs."""
    import torch

    from conftest import REPO

    weights = str(REPO / "weights" / "9x9")
    with pytest.raises(ValueError, match="visits"):
        Settings(weights=weights, search="mc", visits=8)  # visits belong to the PUCT search
    with pytest.raises(ValueError, match="mc_playout_policy"):
        Settings(weights=weights, mc_playout_policy="mogo")  # the policy belongs to the mc search
    with pytest.raises(ValueError):
        Settings(weights=weights, search="mc", mc_playout_policy="smart")
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError):
            Settings(weights=weights, search="mc", mc_prefer_network=bad)
    torch.set_num_threads(1)
    app = create_app(Settings(weights=weights, search="mc", steered_playouts=2000, mc_prior=2.0, threads=1,
                              symmetries=1, mc_playout_policy="mogo", mc_prefer_network=0.5))  # one view: the test's time is the search's
    with live_server(app) as url:
        version = httpx.get(f"{url}/version").json()
        assert version["search"] == {"kind": "mc", "playouts": 2000, "prior": 2.0, "playout_policy": "mogo",
                                     "prefer_network": 0.5}
        assert version["symmetries"] == 1  # the setting reaches the network under the search
        body = {"board_size": 9, "moves": [["B", "E5"], ["W", "C3"]]}
        out = httpx.post(f"{url}/v1/analyze", json=body, timeout=120).json()
        game = replay(body["moves"])
        assert game.position.is_legal(from_gtp(out["move"], 9))
        assert out["top_moves"][0]["move"] == out["move"] and len(out["z_codes"]) > 0 and out["raw_move"]
        assert 0.0 <= out["winrate"] <= 1.0
        bad = httpx.post(f"{url}/v1/genmove", json={"board_size": 9, "moves": [["B", "E5"], ["W", "E5"]]})
        assert bad.status_code in (409, 422) and "E5" in bad.text  # the engine's reason, not a 500
