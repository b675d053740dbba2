#!/usr/bin/env node
// asya-webhook: one binary for the webhook server and its tools; see program.ts for the sub-commands.
import { main } from './program.js';

await main(process.argv);
