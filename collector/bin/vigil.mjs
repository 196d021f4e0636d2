#!/usr/bin/env node
import "../dist/vigil.mjs";
