#!/usr/bin/env node
import "../dist/vigil-collector.mjs";
