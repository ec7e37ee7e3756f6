#!/usr/bin/env node
// psm's $POPC_RSH for POP-C++ clients (docs/popc.md): starts an object on a psm worker over the
// restricted key, with only the documented tunnels. Compiled to dist/ by `npm run build`.
import { runPopcRsh } from '../dist/psm/popc-rsh/index.js';

process.exitCode = await runPopcRsh(process.argv.slice(2), process.env);
