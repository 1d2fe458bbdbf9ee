// A full 9x9 game between videoworld-go and GNU Go, refereed by @sabaki/gtp: the GTP
// controller Sabaki itself uses. Our engine's analysis is requested the way Sabaki does
// (`<analyze command> <color> <interval>`, ended by the next command) and read with the
// rules of Sabaki's analysis parser (src/modules/enginesyncer.js, written anew here).
//
//   node sabaki_game.js '{"engine": [argv...], "gnugo": [argv...], "maxMoves": 400, "analyzeEvery": 10,
//                         "analysisLines": 2}'   (info lines to read before ending each analysis)
//   optional "genmoveAnalyze": "lz-genmove_analyze": our moves come from that command with an interval
//   of 10 (Sabaki's way of showing an engine's thinking), its info lines taken as they stream in and the
//   move read from the answer's "play" line
//
// Prints one JSON object on stdout; exits non-zero on any GTP error.
'use strict'

const {Controller} = require('@sabaki/gtp')

const COLUMNS = 'ABCDEFGHJKLMNOPQRSTUVWXYZ'

// Sabaki's rules for one analysis line: it is split at "info"; in each part the principal
// variation is the run of vertices ("D4" or "pass") ending the part, cut at its first pass;
// the words before the "pv" keyword alternate key, value; parts whose move is not a board
// point are dropped; a winrate with a decimal point is a 0..1 float (KataGo), one without
// is an integer out of 10000 (Leela Zero), and both are turned into percent.
function parseAnalysisLine(line, size) {
  const vertex = text => {
    const x = COLUMNS.indexOf(text[0].toUpperCase())
    const y = size - Number(text.slice(1))
    return x >= 0 && y >= 0 && y < size ? [x, y] : null
  }
  const out = []
  for (const part of line.split(/\s*info\s+/).slice(1).map(s => s.trim())) {
    const pvMatch = /(pass|[A-Za-z]\d+)(\s+(pass|[A-Za-z]\d+))*$/.exec(part)
    if (pvMatch === null) continue
    const cut = pvMatch[0].indexOf('pass')
    const pv = (cut < 0 ? pvMatch[0] : pvMatch[0].slice(0, cut)).split(/\s+/).filter(v => v.length >= 2)
    const words = part.slice(0, pvMatch.index).trim().split(/\s+/)
    words.pop() // the "pv" keyword
    const fields = {}
    for (let i = 0; i + 1 < words.length; i += 2) fields[words[i]] = words[i + 1]
    if (!/^[A-Za-z]\d+$/.test(fields.move || '')) continue
    out.push({
      move: fields.move,
      vertex: vertex(fields.move),
      visits: Number(fields.visits),
      winrate: fields.winrate.includes('.') ? Number(fields.winrate) * 100 : Number(fields.winrate) / 100,
      prior: fields.prior === undefined ? null
        : fields.prior.includes('.') ? Number(fields.prior) * 100 : Number(fields.prior) / 100,
      pv,
      pvVertices: pv.map(vertex),
    })
  }
  return out
}

async function send(controller, name, args = []) {
  const response = await controller.sendCommand({name, args})
  if (response.error) throw new Error(`${name} ${args.join(' ')}: ${response.content}`)
  return response.content
}

// As Sabaki: send the analysis command, take the info lines as they stream in, and end
// it with the next command (Sabaki's sendAbort sends protocol_version).
async function analyze(controller, name, color, size, want = 2) {
  const lines = []
  let enough
  const gotEnough = new Promise(resolve => (enough = resolve))
  const response = controller.sendCommand({name, args: [color, '10']}, ({line}) => {
    if (line.startsWith('info ')) {
      lines.push(line)
      if (lines.length >= want) enough()
    }
  })
  await gotEnough
  const [, final] = await Promise.all([send(controller, 'protocol_version'), response])
  return {command: name, color, lines, error: final.error, variations: lines.map(l => parseAnalysisLine(l, size))}
}

// A move through genmove_analyze: the info lines as they arrive (with the milliseconds since the command
// was sent) and the move from the "play <vertex>" line ending the answer.
async function genmoveAnalyze(controller, name, color, size) {
  const sent = Date.now()
  const lines = [], at = []
  const response = await controller.sendCommand({name, args: [color, '10']}, ({line}) => {
    if (line.startsWith('info ')) {
      lines.push(line)
      at.push(Date.now() - sent)
    }
  })
  if (response.error) throw new Error(`${name} ${color}: ${response.content}`)
  const play = response.content.split('\n').find(l => l.startsWith('play '))
  if (play === undefined) throw new Error(`${name} ${color}: no play line in ${JSON.stringify(response.content)}`)
  return {
    vertex: play.slice(5).trim().toUpperCase(), lines, at, ms: Date.now() - sent,
    variations: lines.map(l => parseAnalysisLine(l, size)),
  }
}

async function main() {
  const cfg = JSON.parse(process.argv[2])
  const size = 9
  const ours = new Controller(cfg.engine[0], cfg.engine.slice(1), {cwd: cfg.cwd})
  const gnugo = new Controller(cfg.gnugo[0], cfg.gnugo.slice(1))
  const stderr = []
  ours.on('stderr', ({content}) => stderr.push(content))
  ours.start()
  gnugo.start()
  try {
    const commands = (await send(ours, 'list_commands')).split('\n')
    const version = await send(ours, 'version')
    for (const c of [ours, gnugo]) {
      await send(c, 'boardsize', [String(size)])
      await send(c, 'clear_board')
      await send(c, 'komi', ['7'])
    }
    // Sabaki's choice of analysis command: the first of these the engine lists.
    const sabakiChoice = ['analyze', 'kata-analyze', 'lz-analyze'].find(c => commands.includes(c))
    const moves = [], analyses = [], thinking = []
    let passes = 0
    for (let n = 0; passes < 2 && n < cfg.maxMoves; n++) {
      const color = n % 2 === 0 ? 'B' : 'W'
      const [mover, other] = color === 'B' ? [ours, gnugo] : [gnugo, ours]
      if (mover === ours && n % cfg.analyzeEvery === 0) {
        analyses.push(await analyze(ours, 'lz-analyze', color, size, cfg.analysisLines))
        analyses.push(await analyze(ours, sabakiChoice, color, size, cfg.analysisLines))
      }
      let vertex
      if (mover === ours && cfg.genmoveAnalyze) {
        const move = await genmoveAnalyze(ours, cfg.genmoveAnalyze, color, size)
        thinking.push(move)
        vertex = move.vertex
      } else {
        vertex = (await send(mover, 'genmove', [color])).trim().toUpperCase()
      }
      moves.push([color, vertex])
      if (vertex === 'RESIGN') break
      await send(other, 'play', [color, vertex]) // each side checks the other's move
      passes = vertex === 'PASS' ? passes + 1 : 0
    }
    const result = {
      commands, version, sabakiChoice, moves, passes, analyses, thinking,
      ourScore: await send(ours, 'final_score'),
      gnugoScore: await send(gnugo, 'final_score'),
      ourBoard: await send(ours, 'showboard'),
    }
    process.stdout.write(JSON.stringify(result) + '\n')
  } finally {
    await Promise.all([ours.stop(10000), gnugo.stop(10000)])
    if (stderr.length) process.stderr.write(stderr.join('\n') + '\n')
  }
}

main().catch(err => {
  process.stderr.write(`${err.stack || err}\n`)
  process.exit(1)
})
