// The web board: plays one game against the engine through the REST API (/v1/games).
// Plain browser JavaScript, no build step. Every board change comes from the server's
// game state, so the page never has to know the rules (captures, ko, superko).
"use strict";

const COLUMNS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"; // GTP letters: I is skipped
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

let game = null; // the last GameState from the server
let busy = false;

class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const json = (response.headers.get("content-type") || "").includes("json") ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, (json && json.detail) || response.statusText);
  return json;
}

const human = () => $("human").value;
const engineColor = () => (human() === "B" ? "W" : "B");
const vertexOf = (row, col, size) => COLUMNS[col] + (size - row);

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function starPoints(n) {
  if (n < 7) return [];
  const d = n <= 12 ? 2 : 3, lo = d, hi = n - 1 - d, mid = (n - 1) / 2;
  const pts = [[lo, lo], [lo, hi], [hi, lo], [hi, hi]];
  if (n % 2 === 1 && n >= 9) pts.push([mid, mid]);
  if (n % 2 === 1 && n >= 13) pts.push([lo, mid], [hi, mid], [mid, lo], [mid, hi]);
  return pts;
}

// Board in SVG units: intersection (r, c) at (c + 1, r + 1); one unit between lines.
// ownership: N*N values in [-1, 1] from Black's side, top row first (the Territory box), or null.
function drawBoard(state, suggestions, ownership) {
  const n = state.board_size, svg = $("board");
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${n + 1} ${n + 1}`);
  svg.dataset.size = n;
  for (let i = 0; i < n; i++) {
    el("line", { class: "line", x1: 1, y1: i + 1, x2: n, y2: i + 1 }, svg);
    el("line", { class: "line", x1: i + 1, y1: 1, x2: i + 1, y2: n }, svg);
    el("text", { class: "label", x: i + 1, y: 0.45 }, svg).textContent = COLUMNS[i];
    el("text", { class: "label", x: 0.45, y: i + 1 }, svg).textContent = String(n - i);
  }
  for (const [r, c] of starPoints(n)) el("circle", { class: "star", cx: c + 1, cy: r + 1, r: 0.09 }, svg);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const v = vertexOf(r, c, n), cell = state.board[r][c];
      if (cell !== ".") {
        // a finished game's dead stones (state.dead) are drawn faded: they do not count
        const dead = (state.dead || []).includes(v) ? " dead" : "";
        el("circle", { class: `stone ${cell === "X" ? "black" : "white"}${dead}`, cx: c + 1, cy: r + 1, r: 0.47,
                       "data-vertex": v }, svg);
      }
      const hit = el("rect", { class: "hit", x: c + 0.5, y: r + 0.5, width: 1, height: 1, "data-vertex": v,
                               role: "gridcell", "aria-label": v }, svg);
      hit.addEventListener("click", () => play(v));
    }
  }
  if (ownership) {
    // A square of the owner's colour, as strong as the ownership, on every point but a stone its owner keeps.
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        const v = ownership[r * n + c], cell = state.board[r][c];
        if ((cell === "X" && v > 0) || (cell === "O" && v < 0)) continue;
        el("rect", { class: `own ${v > 0 ? "black" : "white"}`, x: c + 0.75, y: r + 0.75, width: 0.5, height: 0.5,
                     opacity: Math.abs(v).toFixed(3), "data-vertex": vertexOf(r, c, n), "data-own": v.toFixed(3) }, svg);
      }
    }
  }
  if (state.last_move && state.last_move !== "pass" && state.last_move !== "resign") {
    const c = COLUMNS.indexOf(state.last_move[0]), r = n - parseInt(state.last_move.slice(1), 10);
    el("circle", { class: "last", cx: c + 1, cy: r + 1, r: 0.2 }, svg);
  }
  for (const s of suggestions || []) {
    if (s.move === "pass") continue;
    const c = COLUMNS.indexOf(s.move[0]), r = n - parseInt(s.move.slice(1), 10);
    if (state.board[r][c] !== ".") continue;
    el("text", { class: "suggest", x: c + 1, y: r + 1 }, svg).textContent = Math.round(100 * s.prob);
  }
}

function showState(state, note) {
  game = state;
  const who = state.to_play === human() ? "your move" : "engine thinking…";
  let text = state.over ? `Game over: ${state.score || state.result}${(state.dead || []).length ? " (faded stones are dead)" : ""}` : `Move ${state.move_number + 1}, ${state.to_play === "B" ? "Black" : "White"} to play (${who})`;
  if (note) text = `${note} — ${text}`;
  $("status").textContent = text;
  $("captures").textContent = `Captures: Black ${state.captures.B}, White ${state.captures.W}`;
  $("sgf").href = `/v1/games/${state.id}/sgf`;
  $("player").textContent = `The engine on ${state.board_size}×${state.board_size}: ${state.player}`;
  drawBoard(state);
}

function showAnalysis(a) {
  $("winrate").textContent = a.winrate === null ? "Winrate: (this player has no winrate)"
    : `Winrate for ${a.color === "B" ? "Black" : "White"}: ${(100 * a.winrate).toFixed(1)}%`;
  $("raw").textContent = `Model's own favourite: ${a.raw_move}${a.raw_legal ? "" : " (illegal: the rules override it)"}`;
  const body = $("top").querySelector("tbody");
  body.replaceChildren();
  a.top_moves.forEach((m, i) => {
    const row = document.createElement("tr");
    const after = m.winrate === null || m.winrate === undefined ? "-" : `${(100 * m.winrate).toFixed(1)}%`;
    for (const text of [String(i + 1), m.move, `${(100 * m.prob).toFixed(1)}%`, after]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.appendChild(cell);
    }
    body.appendChild(row);
  });
  $("codes").textContent = a.z_codes.length ? `latent codes: ${a.z_codes.join(" ")}` : "";
  $("imagined").src = `/v1/games/${game.id}/imagined.png?resolution=256&n=${game.move_number}`;
  // the map comes from the analysed side's view; the board draws it from Black's
  const ownership = a.ownership ? a.ownership.map((v) => (a.color === "B" ? v : -v)) : null;
  drawBoard(game, a.top_moves.slice(0, 5), ownership);
}

// Run one server exchange at a time; errors are shown, never thrown at the user.
async function guarded(action) {
  if (busy) return;
  busy = true;
  $("board").dataset.busy = "true";
  $("error").textContent = "";
  try {
    await action();
  } catch (err) {
    $("error").textContent = err instanceof ApiError ? `${err.status}: ${err.message}` : String(err);
  } finally {
    busy = false;
    $("board").dataset.busy = "false";
  }
}

async function engineTurn() {
  if (game.over || game.to_play !== engineColor()) return;
  const out = await api("POST", `/v1/games/${game.id}/genmove`, {});
  showState(out.game, `Engine (${out.player}) played ${out.move}`);
}

async function refreshPanel() {
  if (game.over) return;
  showAnalysis(await api("POST", `/v1/games/${game.id}/analyze`, { top_k: 8, include_ownership: $("territory").checked }));
}

function play(vertex) {
  if (!game || game.over || game.to_play !== human()) return;
  guarded(async () => {
    showState(await api("POST", `/v1/games/${game.id}/moves`, { move: vertex }));
    await engineTurn();
    await refreshPanel();
  });
}

function newGame() {
  guarded(async () => {
    showState(await api("POST", "/v1/games", { board_size: parseInt($("size").value, 10) }));
    await engineTurn();
    await refreshPanel();
  });
}

function undo() {
  guarded(async () => {
    // Take back the engine's answer and your move, so it is your turn again.
    let state = await api("POST", `/v1/games/${game.id}/undo`);
    if (state.to_play !== human() && state.move_number > 0) state = await api("POST", `/v1/games/${game.id}/undo`);
    showState(state);
    await engineTurn();
    await refreshPanel();
  });
}

$("new").addEventListener("click", newGame);
$("pass").addEventListener("click", () => play("pass"));
$("undo").addEventListener("click", undo);
$("human").addEventListener("change", newGame);
$("size").addEventListener("change", newGame);
$("territory").addEventListener("change", () => guarded(refreshPanel));
newGame();
