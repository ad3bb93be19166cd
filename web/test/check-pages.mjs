// Opens the project's report pages in Debian's headless Chromium, driven by playwright-core, and
// checks what a person would see there, not only what the HTML says.
//
//   node web/test/check-pages.mjs report target/interop/reports/server-go-ws-json.html
//   node web/test/check-pages.mjs interop target/interop-selftest     # index.html and every report
//   ... interop DIR --verdicts FILE   # the verdicts to find on the page (default DIR/verdicts.tsv)
//   node web/test/check-pages.mjs bench target/bench/index.html --results target/bench/results.json
//   ... --screenshot FILE [--clip-to SELECTOR]   # a PNG of what was checked (under target/)
//
// Every page must load with no console error, no uncaught exception and no request beyond the
// page itself (the pages are self-contained). Then:
//
// - report: each case's row says its verdict in words (PASS, FAIL, SKIP) on its colour (a red
//   background for a failure, green for a pass, as the browser computes it), and, with the JSON
//   report beside it (NAME.json), shows exactly its cases and verdicts;
// - interop: index.html has one visible cell per server × client × transport × dialect of
//   verdicts.tsv, each with the verdict the run gave, in words and colour, and one per suite run
//   with its counts from the suite's JSON report and a link to the suite's page; then every
//   suite page it links is checked as a report;
// - bench: every table has its rows (with --results, a row for each server measured), and every
//   chart is drawn, with bars.
//
// Exit status 0 when every check passed, 1 when one failed (each is printed), 2 for usage errors.

import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const USAGE =
  "usage: node web/test/check-pages.mjs report|interop|bench PATH [--results FILE] [--verdicts FILE] " +
  "[--screenshot FILE] [--clip-to SELECTOR] [--chromium /usr/bin/chromium]";

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run"];

// verdicts.tsv's words, as the interop page's data-verdict.
const PAIR_VERDICTS = { ok: "pass", FAIL: "fail" };
const SUITE_VERDICTS = { yes: "pass", no: "fail" };
// What a pair's cell says in words, by verdict.
const PAIR_WORDS = { pass: "ok", fail: "FAIL" };

class UsageError extends Error {}

/** Flags, checked and made ready to use: the rest of the program never sees raw ones. */
function readOptions(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        results: { type: "string" },
        verdicts: { type: "string" },
        screenshot: { type: "string" },
        "clip-to": { type: "string" },
        chromium: { type: "string", default: "/usr/bin/chromium" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError(error.message);
  }
  const { values, positionals } = parsed;
  if (values.help) return null;
  const [kind, target, ...rest] = positionals;
  if (!["report", "interop", "bench"].includes(kind))
    throw new UsageError("say which page: report, interop or bench");
  if (target === undefined || rest.length > 0)
    throw new UsageError("give one page (or, for interop, the run's folder)");
  const page =
    kind === "interop" ? path.join(target, "index.html") : path.resolve(target);
  for (const file of [page, values.results, values.verdicts].filter(Boolean))
    if (!fs.existsSync(file)) throw new UsageError(`no file ${file}`);
  return {
    kind,
    page: path.resolve(page),
    folder: path.resolve(kind === "interop" ? target : path.dirname(target)),
    results: values.results,
    verdicts: values.verdicts ?? path.join(target, "verdicts.tsv"),
    screenshot: values.screenshot,
    clipTo: values["clip-to"],
    chromium: values.chromium,
  };
}

/** Colour words for a computed `rgb(r, g, b)`: red or green by its hue (pale or not), else
 * what it is. */
function hue(color) {
  const [r, g, b] = (color.match(/[\d.]+/g) ?? []).map((v) => Number(v) / 255);
  if (b === undefined) return `unknown (${color})`;
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  if (max - min < 0.05) return `grey (${color})`;
  let degrees;
  if (max === r) degrees = (60 * ((g - b) / (max - min)) + 360) % 360;
  else if (max === g) degrees = 60 * ((b - r) / (max - min)) + 120;
  else degrees = 60 * ((r - g) / (max - min)) + 240;
  if (degrees < 30 || degrees >= 330) return "red";
  if (degrees >= 90 && degrees < 165) return "green";
  return `neither red nor green (${color})`;
}

const COLOURS = { pass: "green", fail: "red" };

/** Opens `file` in a fresh page; records console errors, uncaught exceptions and requests. */
async function open(browser, file, problems) {
  const page = await browser.newPage({
    viewport: { width: 1280, height: 900 },
  });
  const url = pathToFileURL(file).href;
  const name = path.basename(file);
  page.on("console", (message) => {
    if (message.type() === "error")
      problems.push(`${name}: console error: ${message.text()}`);
  });
  page.on("pageerror", (error) =>
    problems.push(`${name}: uncaught exception: ${error.message}`),
  );
  await page.route("**/*", (route) => {
    if (route.request().url() === url) return route.continue();
    problems.push(
      `${name}: fetches ${route.request().url()} (not self-contained)`,
    );
    return route.abort();
  });
  await page.goto(url, { waitUntil: "load" });
  return page;
}

/** What the rows of a suite report show: per row its case, data-verdict, verdict cell's text and
 * computed background, and whether it is drawn. */
async function reportRows(page) {
  return page.$$eval("tr.case", (rows) =>
    rows.map((row) => {
      const cell = row.querySelector("td.verdict");
      const box = row.getBoundingClientRect();
      return {
        case: row.dataset.case,
        verdict: row.dataset.verdict,
        text: cell?.innerText.trim() ?? "",
        background: cell ? getComputedStyle(cell).backgroundColor : "",
        visible: box.width > 0 && box.height > 0,
      };
    }),
  );
}

/** Checks a suite report: each row in words and colour, and, given its JSON, every case. */
async function checkReport(browser, file, problems) {
  const page = await open(browser, file, problems);
  const name = path.basename(file);
  const rows = await reportRows(page);
  if (rows.length === 0) problems.push(`${name}: no case rows`);
  for (const row of rows) {
    const where = `${name}: case ${row.case}`;
    if (row.text !== row.verdict?.toUpperCase())
      problems.push(
        `${where}: says '${row.text}', its verdict is ${row.verdict}`,
      );
    if (!row.visible) problems.push(`${where}: not drawn`);
    const want = { ...COLOURS, skip: null }[row.verdict];
    if (want && hue(row.background) !== want)
      problems.push(
        `${where}: ${row.verdict} on a ${hue(row.background)} background, not ${want}`,
      );
  }
  const json = file.replace(/\.html$/, ".json");
  if (fs.existsSync(json)) {
    const cases = JSON.parse(fs.readFileSync(json, "utf8")).cases;
    const shown = new Map(rows.map((r) => [r.case, r.verdict]));
    for (const c of cases) {
      if (!shown.has(c.case))
        problems.push(`${name}: case ${c.case} of the JSON report is missing`);
      else if (shown.get(c.case) !== c.verdict)
        problems.push(
          `${name}: case ${c.case} is ${shown.get(c.case)} on the page, ${c.verdict} in the JSON report`,
        );
    }
    const known = new Set(cases.map((c) => c.case));
    for (const r of rows.filter((r) => !known.has(r.case)))
      problems.push(`${name}: case ${r.case} is not in the JSON report`);
    if (rows.length !== cases.length)
      problems.push(
        `${name}: ${rows.length} case rows, ${cases.length} cases in the JSON report`,
      );
    const failed = cases.some((c) => c.verdict === "fail");
    const outcome = await page.$eval("body", (body) => body.dataset.outcome);
    if (outcome !== (failed ? "fail" : "pass"))
      problems.push(
        `${name}: outcome ${outcome}, but ${failed ? "a" : "no"} case failed`,
      );
  }
  return page;
}

/** verdicts.tsv as pairs and suites, with the page's words for verdicts. */
function readVerdicts(file) {
  const pairs = [];
  const suites = [];
  const lines = fs.readFileSync(file, "utf8").split("\n");
  for (const line of lines.filter((l) => l.trim())) {
    const [kind, a, b, transport, dialect, verdict] = line.split("\t");
    if (kind === "pair")
      pairs.push({
        server: a,
        client: b,
        transport,
        dialect,
        verdict: PAIR_VERDICTS[verdict],
      });
    else
      suites.push({
        side: a,
        impl: b,
        transport,
        dialect,
        verdict: SUITE_VERDICTS[verdict],
      });
  }
  return { pairs, suites };
}

function countsText(cases) {
  const count = (v) => cases.filter((c) => c.verdict === v).length;
  const skipped = count("skip") ? `, ${count("skip")} skipped` : "";
  return `${count("pass")} passed, ${count("fail")} failed${skipped}`;
}

/** Checks the interop page against verdicts.tsv and the reports; returns it, and the suite
 * pages it links. */
async function checkInterop(browser, options, problems) {
  const page = await open(browser, options.page, problems);
  const { pairs, suites } = readVerdicts(options.verdicts);
  const shown = await page.$$eval(".pair, td.suite", (cells) =>
    cells.map((cell) => {
      const box = cell.getBoundingClientRect();
      return {
        suite: cell.classList.contains("suite") ? cell.dataset.suite : null,
        server: cell.dataset.server,
        client: cell.dataset.client,
        transport: cell.dataset.transport,
        dialect: cell.dataset.dialect,
        verdict: cell.dataset.verdict,
        text: cell.innerText.trim(),
        word: cell.querySelector(".word")?.innerText.trim() ?? null,
        background: getComputedStyle(cell).backgroundColor,
        visible: box.width > 0 && box.height > 0,
        report:
          cell.querySelector('a[href^="reports/"]')?.getAttribute("href") ??
          null,
      };
    }),
  );
  const shownPairs = shown.filter((cell) => cell.suite === null);
  const shownSuites = shown.filter((cell) => cell.suite !== null);

  // Every cell of the matrix: each server × client × transport × dialect that verdicts.tsv names.
  const names = (key) => [...new Set(pairs.map((p) => p[key]))];
  const expected =
    names("server").length *
    names("client").length *
    names("transport").length *
    names("dialect").length;
  if (shownPairs.length !== expected)
    problems.push(
      `index.html: ${shownPairs.length} pair cells, not ${expected}`,
    );
  for (const pair of pairs) {
    const what = `${pair.client} client → ${pair.server} server over ${pair.transport} in ${pair.dialect}`;
    const found = shownPairs.filter(
      (c) =>
        c.server === pair.server &&
        c.client === pair.client &&
        c.transport === pair.transport &&
        c.dialect === pair.dialect,
    );
    if (found.length !== 1) {
      problems.push(`index.html: ${found.length} cells for ${what}, not 1`);
      continue;
    }
    const [cell] = found;
    if (cell.verdict !== pair.verdict)
      problems.push(
        `index.html: ${what} is ${cell.verdict}, the run says ${pair.verdict}`,
      );
    if (cell.word !== PAIR_WORDS[pair.verdict])
      problems.push(
        `index.html: ${what} says '${cell.word}', not '${PAIR_WORDS[pair.verdict]}'`,
      );
    if (hue(cell.background) !== COLOURS[pair.verdict])
      problems.push(
        `index.html: ${what} is ${hue(cell.background)}, not ${COLOURS[pair.verdict]}`,
      );
    if (!cell.visible) problems.push(`index.html: ${what} is not drawn`);
  }

  if (shownSuites.length !== suites.length)
    problems.push(
      `index.html: ${shownSuites.length} suite cells, not ${suites.length}`,
    );
  const reports = [];
  for (const suite of suites) {
    const judged = suite.side === "server" ? "server" : "client";
    const what = `the ${suite.side} suite of ${suite.impl} over ${suite.transport} in ${suite.dialect}`;
    const found = shownSuites.filter(
      (c) =>
        c.suite === suite.side &&
        c[judged] === suite.impl &&
        c.transport === suite.transport &&
        c.dialect === suite.dialect,
    );
    if (found.length !== 1) {
      problems.push(`index.html: ${found.length} cells for ${what}, not 1`);
      continue;
    }
    const [cell] = found;
    if (cell.verdict !== suite.verdict)
      problems.push(
        `index.html: ${what} is ${cell.verdict}, the run says ${suite.verdict}`,
      );
    const mark = suite.verdict === "pass" ? "✅" : "❌";
    if (!cell.text.startsWith(mark))
      problems.push(
        `index.html: ${what} does not start with ${mark}: '${cell.text}'`,
      );
    if (hue(cell.background) !== COLOURS[suite.verdict])
      problems.push(
        `index.html: ${what} is ${hue(cell.background)}, not ${COLOURS[suite.verdict]}`,
      );
    const base = `${suite.side}-${suite.impl}-${suite.transport}-${suite.dialect}`;
    const json = path.join(options.folder, "reports", `${base}.json`);
    if (fs.existsSync(json)) {
      const counts = countsText(
        JSON.parse(fs.readFileSync(json, "utf8")).cases,
      );
      if (!cell.text.includes(counts))
        problems.push(
          `index.html: ${what} does not say '${counts}': '${cell.text}'`,
        );
      if (cell.report !== `reports/${base}.html`)
        problems.push(
          `index.html: ${what} links ${cell.report}, not reports/${base}.html`,
        );
      else reports.push(path.join(options.folder, cell.report));
    }
  }
  return { page, reports };
}

/** Checks the benchmark page: tables with rows (a row per server with --results), charts with
 * bars. */
async function checkBench(browser, options, problems) {
  const page = await open(browser, options.page, problems);
  const tables = await page.$$eval("section table.results", (found) =>
    found.map((table) => {
      const box = table.getBoundingClientRect();
      return {
        section: table.closest("section").dataset.section,
        title:
          table.previousElementSibling?.tagName === "H3"
            ? table.previousElementSibling.innerText
            : table.closest("section").querySelector("h2").innerText,
        rows: [...table.querySelectorAll("tbody tr")].map((row) =>
          row.cells[0].innerText.trim(),
        ),
        visible: box.width > 0 && box.height > 0,
      };
    }),
  );
  const charts = await page.$$eval("figure.chart", (found) =>
    found.map((figure) => {
      const svg = figure.querySelector("svg");
      const box = svg?.getBoundingClientRect();
      const bars = [...(svg?.querySelectorAll("rect") ?? [])].filter(
        (rect) =>
          rect.querySelector("title") &&
          rect.getBoundingClientRect().height > 0,
      );
      return {
        name: figure.dataset.chart,
        visible: box !== undefined && box.width > 100 && box.height > 100,
        bars: bars.length,
      };
    }),
  );
  if (tables.length === 0) problems.push("bench page: no tables");
  for (const table of tables) {
    const where = `bench page: the table '${table.title}' (${table.section})`;
    if (table.rows.length === 0) problems.push(`${where} has no rows`);
    if (!table.visible) problems.push(`${where} is not drawn`);
  }
  if (charts.length === 0) problems.push("bench page: no charts");
  for (const chart of charts) {
    if (!chart.visible)
      problems.push(`bench page: the ${chart.name} chart is not drawn`);
    if (chart.bars === 0)
      problems.push(`bench page: the ${chart.name} chart has no bars`);
  }
  if (options.results) {
    const folder = path.dirname(options.results);
    const read = (name) => {
      const file = path.join(folder, name);
      return fs.existsSync(file)
        ? JSON.parse(fs.readFileSync(file, "utf8"))
        : null;
    };
    const run = read("results.json");
    const dialects = read("dialects.json");
    const want = {
      load: run?.meta.servers ?? [],
      dialects: dialects?.dialects.servers ?? [],
    };
    for (const [section, servers] of Object.entries(want)) {
      const inSection = tables.filter((t) => t.section === section);
      if (servers.length > 0 && inSection.length === 0)
        problems.push(`bench page: no ${section} tables`);
      for (const table of inSection) {
        const rows = table.rows.join(" ");
        // The idle table has no ceiling: it holds no sessions.
        for (const server of servers.filter(
          (s) => !(s === "ceiling" && /idle/.test(table.title)),
        ))
          if (!table.rows.includes(server))
            problems.push(
              `bench page: the table '${table.title}' has no row for ${server} (${rows})`,
            );
      }
    }
    if (run && charts.length !== 2)
      problems.push(`bench page: ${charts.length} charts, not 2`);
  }
  return page;
}

/** A PNG of the page, whole or down to the first element matching `clipTo`. */
async function screenshot(page, file, clipTo) {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  if (clipTo === undefined)
    return page.screenshot({ path: file, fullPage: true });
  const box = await page.locator(clipTo).first().boundingBox();
  if (box === null)
    throw new Error(`--clip-to: nothing on the page matches ${clipTo}`);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  return page.screenshot({
    path: file,
    fullPage: true,
    clip: { x: 0, y: 0, width, height: Math.ceil(box.y + box.height + 24) },
  });
}

async function main() {
  let options;
  try {
    options = readOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`check-pages: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (options === null) {
    console.log(USAGE);
    return 0;
  }
  const problems = [];
  const browser = await chromium.launch({
    executablePath: options.chromium,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  let checked = 1;
  try {
    let page;
    if (options.kind === "report")
      page = await checkReport(browser, options.page, problems);
    else if (options.kind === "bench")
      page = await checkBench(browser, options, problems);
    else {
      const interop = await checkInterop(browser, options, problems);
      page = interop.page;
      for (const report of interop.reports) {
        const reportPage = await checkReport(browser, report, problems);
        await reportPage.close();
      }
      checked += interop.reports.length;
    }
    if (options.screenshot !== undefined)
      await screenshot(page, options.screenshot, options.clipTo);
  } finally {
    await browser.close();
  }
  const what = `${checked} page${checked === 1 ? "" : "s"} (${path.relative(process.cwd(), options.page)}${
    checked > 1 ? " and the reports it links" : ""
  })`;
  if (problems.length > 0) {
    console.error(`check-pages: ${problems.length} problems in ${what}:`);
    for (const problem of problems) console.error(`  ${problem}`);
    return 1;
  }
  console.log(
    `check-pages: ${what} ${checked === 1 ? "shows what it should" : "show what they should"}`,
  );
  return 0;
}

process.exitCode = await main();
