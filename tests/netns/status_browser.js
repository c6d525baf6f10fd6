// status_browser.js — what a person sees on floodgated's status page, in a
// real headless Chromium driven over the DevTools protocol (Node's own
// WebSocket and fetch: no npm package, nothing downloaded).
//
//   node --experimental-websocket status_browser.js PORT PAGE_URL RULE SOURCE \
//        ROW_TEXT READY_FILE GO_FILE SCREENSHOT
//
// Chromium must already listen on 127.0.0.1:PORT (--remote-debugging-port).
// Opens PAGE_URL, waits for its first rendering, creates READY_FILE, then
// waits for GO_FILE (its content: the Unix ms the flood started). From then
// on it looks every 100 ms for: the UNDER ATTACK badge on RULE's row
// (visible), a chart line of RULE with points, SOURCE in the top sources
// table with ROW_TEXT in its row (say "banned"). Once all are seen it saves a PNG screenshot and prints
//   badge_ms=N points=N source_row="..." since="..."
// (badge_ms: from the flood's start to the badge). Exit 0 when all were seen
// within 15 s of GO_FILE, 1 with what is missing otherwise, 2 on errors.
"use strict";
const fs = require("fs");

const [port, pageUrl, rule, source, rowText, readyFile, goFile, shot] = process.argv.slice(2);
if (!shot) {
  console.error("usage: status_browser.js PORT PAGE_URL RULE SOURCE ROW_TEXT READY_FILE GO_FILE SCREENSHOT");
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const deadline = (ms) => Date.now() + ms;

async function devtoolsUrl() {
  const until = deadline(30000);
  while (Date.now() < until) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/json/version`);
      return (await r.json()).webSocketDebuggerUrl;
    } catch {
      await sleep(200);
    }
  }
  throw new Error("chromium's DevTools endpoint never answered");
}

// A minimal DevTools protocol client: one socket, flattened sessions.
function connect(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let id = 0;
    const pending = new Map();
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m.id && pending.has(m.id)) {
        const { ok, fail } = pending.get(m.id);
        pending.delete(m.id);
        m.error ? fail(new Error(m.error.message)) : ok(m.result);
      }
    };
    ws.onerror = () => reject(new Error("cannot open the DevTools socket"));
    ws.onopen = () =>
      resolve({
        send(method, params = {}, sessionId) {
          const msg = { id: ++id, method, params };
          if (sessionId) msg.sessionId = sessionId;
          ws.send(JSON.stringify(msg));
          return new Promise((ok, fail) => pending.set(msg.id, { ok, fail }));
        },
        close() { ws.close(); },
      });
  });
}

// What is on the screen, read in the page: only visible elements count.
const LOOK = `(() => {
  const rule = ${JSON.stringify(rule)}, source = ${JSON.stringify(source)}, rowText = ${JSON.stringify(rowText)};
  const shown = (e) => !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
  const row = [...document.querySelectorAll("#rules tbody tr")].find((tr) => tr.dataset.rule === rule);
  const badge = row && [...row.querySelectorAll(".badge")].find((b) => b.textContent === "UNDER ATTACK");
  const lines = [...document.querySelectorAll("#chart polyline")].filter((p) => p.dataset.rule === rule);
  const points = Math.max(0, ...lines.map((p) => p.points.numberOfItems));
  const ys = lines.flatMap((p) => [...p.points].map((pt) => pt.y));
  const src = [...document.querySelectorAll("#top tbody tr")].find((tr) => tr.cells[0] && tr.cells[0].textContent === source);
  return JSON.stringify({
    state: document.getElementById("state").textContent,
    badge: shown(badge),
    since: row && badge ? row.cells[1].textContent : "",
    points,
    drawn: ys.length > 1 && Math.min(...ys) < Math.max(...ys),
    source: shown(src) && src.textContent.includes(rowText),
    sourceRow: src ? [...src.cells].map((c) => c.textContent).join(" | ") : "",
  });
})()`;

async function main() {
  const cdp = await connect(await devtoolsUrl());
  const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
  const s = (m, p) => cdp.send(m, p, sessionId);
  await s("Emulation.setDeviceMetricsOverride", { width: 1200, height: 1000, deviceScaleFactor: 1, mobile: false });
  await s("Page.enable");
  await s("Page.navigate", { url: pageUrl });
  const look = async () => JSON.parse((await s("Runtime.evaluate", { expression: LOOK, returnByValue: true })).result.value || "{}");

  let v = {};
  for (const until = deadline(15000); Date.now() < until; await sleep(100)) {
    try { v = await look(); } catch { v = {}; }
    if (v.state && v.state !== "loading") break;
  }
  if (!v.state || v.state === "loading") throw new Error("the page never rendered its data");
  fs.writeFileSync(readyFile, "ready\n");

  let t0 = 0;
  for (const until = deadline(60000); Date.now() < until && !t0; await sleep(50)) {
    try { t0 = Number(fs.readFileSync(goFile, "utf8")); } catch { /* not yet */ }
  }
  if (!t0) throw new Error("never told the flood started");

  let badgeMs = -1;
  for (const until = t0 + 15000; Date.now() < until; await sleep(100)) {
    v = await look();
    if (v.badge && badgeMs < 0) badgeMs = Date.now() - t0;
    if (badgeMs >= 0 && v.points > 1 && v.drawn && v.source) break;
  }
  const png = await s("Page.captureScreenshot", { format: "png" });
  fs.writeFileSync(shot, Buffer.from(png.data, "base64"));
  await cdp.send("Target.closeTarget", { targetId });
  await cdp.send("Browser.close").catch(() => {}); // a clean exit: nothing left behind
  cdp.close();
  console.log(`badge_ms=${badgeMs} points=${v.points} drawn=${v.drawn} source=${v.source} ` +
    `source_row="${v.sourceRow}" since="${v.since}" state="${v.state}"`);
  const missing = [];
  if (badgeMs < 0) missing.push(`the UNDER ATTACK badge on ${rule}`);
  if (!(v.points > 1 && v.drawn)) missing.push(`a chart line of ${rule} with points`);
  if (!v.source) missing.push(`${source} in the top sources, "${rowText}"`);
  if (missing.length) {
    console.error("not seen within 15 s: " + missing.join(", "));
    process.exit(1);
  }
}

main().catch((e) => {
  console.error("status_browser: " + e.message);
  process.exit(2);
});
