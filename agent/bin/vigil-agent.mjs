#!/usr/bin/env node
import "../dist/vigil-agent.mjs";
