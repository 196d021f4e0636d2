// V8 settings for the agent process. main.ts imports this module first: ES modules evaluate in import order, and the
// flags must be in place before the other modules' start-up code (protobuf descriptors, zod schemas, grpc-js) gets
// hot. Set from main() instead, after that code ran, it cost ~4 MB more RSS (measured with bench/agent.ts).
import v8 from "node:v8";

// The agent's hot path is tiny and runs once a tick: V8's optimizing compilers buy it nothing but cost 5-10 MB of
// native memory that creeps over hours, and CPU for compiling. Ignition and Sparkplug are plenty. (Maglev is off by
// default in Node 20 and on in later versions; both flags exist in all of them.)
v8.setFlagsFromString("--no-turbofan --no-maglev");
