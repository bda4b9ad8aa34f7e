// Peer for benchmarks/bench_validate.py: read a graph JSON, JSON.parse it, validate it with a compiled
// Ajv (draft-07) validator, and print one JSON line with the timings (compile time reported apart).
// Usage: node validate_ajv.js SCHEMA.json GRAPH.json
"use strict";
const fs = require("fs");
const Ajv = require("ajv");

const [schemaPath, dataPath] = process.argv.slice(2);
const schema = JSON.parse(fs.readFileSync(schemaPath, "utf8"));
// strict: false because the Neuronpedia schema carries keywords draft-07 does not know (prefixItems, version)
const ajv = new Ajv({ strict: false, allErrors: true });
const t0 = process.hrtime.bigint();
const validate = ajv.compile(schema);
const t1 = process.hrtime.bigint();
const text = fs.readFileSync(dataPath, "utf8");
const t2 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const doc = JSON.parse(text);
const t3 = process.hrtime.bigint();
const valid = validate(doc);
const t4 = process.hrtime.bigint();
const cpu = process.cpuUsage(cpu0);
const s = (a, b) => Number(b - a) / 1e9;
console.log(
  JSON.stringify({
    valid,
    errors: valid ? 0 : validate.errors.length,
    compile_s: s(t0, t1),
    read_s: s(t1, t2),
    parse_s: s(t2, t3),
    validate_s: s(t3, t4),
    total_s: s(t1, t4),
    cpu_s: (cpu.user + cpu.system) / 1e6, // parse + validate, all threads
    peak_rss_mb: peakRssMb(),
  })
);

// VmHWM is this process's own peak; resourceUsage().maxRSS would carry the parent's peak over exec.
function peakRssMb() {
  const m = require("fs").readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+)/);
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}
