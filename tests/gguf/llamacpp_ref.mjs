// llamacpp_ref.mjs: llama.cpp's answers for a GGUF file, through the npm
// package node-llama-cpp (its prebuilt llama.cpp; nothing is built or
// downloaded at run time).  Used by test_llamacpp.py and bench/llamacpp.sh.
//
// Usage: node llamacpp_ref.mjs NODE_MODULES JOB.json
// JOB: {"threads": N, "runs": [RUN...]}, each RUN one GGUF file:
//   {"model": FILE.gguf,
//    "texts": [STRING...],          tokenize each (control-token text parsed)
//    "prompt": [IDS], "n": N,       greedy continuation of IDS for N tokens
//    "top": K | "all",              also the K largest raw logits at each step as
//                                   [id, logit] pairs, or all of them as a dense row
//    "kv": "F32",                   KV cache type (default F16, llama.cpp's default)
//    "from": I, "to": J,            ... at positions I..J-1 of prompt + continuation
//                                   (default: from the last of the prompt to the end)
//    "bench": {"prefill": N, "decode": N, "runs": R}}   speed
// Prints one JSON object: {"release", "runs": [{"tokens": [[ids]...],
//   "gen": [ids], "logits": [[[id, logit]...]...], "bench": {"prefill_tps":
//   [..], "decode_tps": [..]}} or {"error": llama.cpp's message}...]}.
// A llama.cpp assertion aborts the process: the caller retries per file.
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import {pathToFileURL} from 'node:url';

const [nodeModules, jobPath] = process.argv.slice(2);
const job = JSON.parse(fs.readFileSync(jobPath, 'utf8'));
const req = createRequire(path.join(path.resolve(nodeModules), 'index.js'));
const entry = req.resolve('node-llama-cpp');
const {getLlama, LlamaLogLevel} = await import(pathToFileURL(entry).href);

// llama.cpp's log lines go to stderr, so a loader failure says why.
const llama = await getLlama({
    build: 'never', gpu: false, usePrebuiltBinaries: true, skipDownload: true, progressLogs: false,
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => process.stderr.write('[llama.cpp] ' + message + '\n'),
});
const out = {release: llama.llamaCppRelease.release, runs: []};
const threads = job.threads || 2;

// One model: tokenization, greedy continuation and its logits.
async function check(run) {
    let model;
    try {
        model = await llama.loadModel({modelPath: path.resolve(run.model), gpuLayers: 0});
    } catch (e) {
        return {error: 'llama.cpp could not load ' + run.model + ': ' + e.message};
    }
    const res = {tokens: (run.texts || []).map((t) => Array.from(model.tokenize(t, true)))};
    if (run.prompt) {
        const context = await model.createContext({contextSize: 256, threads, batchSize: 256, sequences: 1,
            experimentalKvCacheKeyType: run.kv || 'F16', experimentalKvCacheValueType: run.kv || 'F16',
            flashAttention: run.flash ?? 'auto'});
        let seq = context.getSequence();
        res.gen = [];
        for await (const tok of seq.evaluate(run.prompt, {temperature: 0, yieldEogToken: true})) {
            res.gen.push(tok);
            if (res.gen.length >= run.n) break;
        }
        seq.dispose();
        if (run.top) {
            // teacher-forced: the prompt and the continuation once more, with
            // the top raw logits (after the final softcap) at every position
            // that predicts a continuation token
            seq = context.getSequence();
            const all = run.prompt.concat(res.gen.slice(0, -1));
            const want = {generateNext: {logits: run.top === 'all' ? true : {filter: {includeTop: run.top}}}};
            const from = run.from ?? run.prompt.length - 1;
            const to = Math.min(run.to ?? all.length, all.length);
            const input = all.slice(0, to).map((t, i) => (i >= from ? [t, want] : t));
            const ev = await seq.controlledEvaluate(input);
            res.logits = [];
            for (let i = from; i < to; i++) {
                const m = ev[i].next.logits;
                if (run.top !== 'all') {
                    res.logits.push(Array.from(m.entries()));
                    continue;
                }
                const row = new Array(m.size).fill(0);  // dense, by id
                for (const [id, v] of m) row[id] = Math.round(v * 1e5) / 1e5;
                res.logits.push(row);
            }
            seq.dispose();
        }
        await context.dispose();
    }
    if (run.bench) res.bench = await bench(model, run.bench);
    await model.dispose();
    return res;
}

// Prefill and decode speed: a prompt of b.prefill tokens, then b.decode
// greedy tokens, b.runs times in a fresh sequence.
async function bench(model, b) {
    const ctxSize = b.prefill + b.decode + 16;
    const context = await model.createContext({contextSize: ctxSize, threads, batchSize: b.prefill, sequences: 1});
    const r = {prefill_tps: [], decode_tps: []};
    const prompt = [];
    for (let i = 0; i < b.prefill; i++) prompt.push(1000 + ((i * 7919) % 20000));
    for (let k = 0; k < (b.runs || 1); k++) {
        const seq = context.getSequence();
        const t0 = process.hrtime.bigint();
        let t1 = 0n, n = 0;
        const it = seq.evaluate(prompt, {temperature: 0, yieldEogToken: true});
        for await (const tok of it) {
            void tok;
            if (n === 0) t1 = process.hrtime.bigint();
            if (++n > b.decode) break;
        }
        const t2 = process.hrtime.bigint();
        r.prefill_tps.push(b.prefill / (Number(t1 - t0) / 1e9));
        r.decode_tps.push(b.decode / (Number(t2 - t1) / 1e9));
        seq.dispose();
    }
    await context.dispose();
    return r;
}

for (const run of job.runs) {
    const t0 = process.hrtime.bigint();
    const res = await check(run);
    res.ms = Number(process.hrtime.bigint() - t0) / 1e6;
    out.runs.push(res);
}
process.stdout.write(JSON.stringify(out) + '\n');
