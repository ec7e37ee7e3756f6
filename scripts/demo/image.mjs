// Step 1's worker image and POP-C++: POP-C++ 2.5 and its programs built by scripts/popc-build.mjs
// (cached in .cache/popc-2.5 or $PSM_POPC; a cached build costs the sha256 of its sources), and
// the worker image built with POP-C++'s worker side (`psm image build --popc`) when it is absent
// or was built without it. So the demo runs from a fresh clone without a prior `npm test`.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from './processes.mjs';

/** The last lines a failed build printed: enough to see why, not the whole make log. */
function tail(ran) {
  const lines = `${ran.stdout}\n${ran.stderr}`.trim().split('\n');
  return lines.slice(-6).join(' | ');
}

/** Where the demo finds POP-C++'s admin side and psmsum (ctx.popc, set by ensureImage). */
export function popcPaths(popc) {
  const location = join(popc, 'root', 'usr', 'local', 'popc');
  return {
    location,
    popcrun: join(location, 'bin', 'popcrun'),
    psmsum: join(popc, 'programs', 'psmsum', 'psmsum'),
  };
}

export async function ensureImage(s, ctx) {
  const popc = resolve(process.env.PSM_POPC ?? join(ctx.root, '.cache', 'popc-2.5'));
  ctx.popc = popc;
  s.doing('POP-C++ 2.5 (built once, then cached)');
  ctx.display.command(`node scripts/popc-build.mjs ${popc}`);
  const built = await run(process.execPath, [join(ctx.root, 'scripts', 'popc-build.mjs'), popc], {
    timeoutMs: 5_400_000,
    stop: ctx.stop,
  });
  const paths = popcPaths(popc);
  const ready = built.code === 0 && existsSync(paths.popcrun) && existsSync(paths.psmsum);
  s.check(
    ready,
    'POP-C++ 2.5 and its program psmsum are built (cached afterwards)',
    ready ? (/built in [\d.]+ s/.exec(built.stdout)?.[0] ?? 'cached') : tail(built),
  );
  if (!ready) throw new Error('the POP-C++ build failed (see above)');

  s.doing('the worker image');
  const shown = await ctx.tools.psmJson(['image', 'show', ctx.image]);
  const popcFiles = shown.json?.inputs?.popcFilesSha256;
  if (shown.code === 0 && typeof popcFiles === 'string') {
    s.check(true, "the worker image is there, with POP-C++'s worker side", `${ctx.image}`);
    return;
  }
  s.doing("building the worker image with POP-C++'s worker side");
  const image = await ctx.tools.psm(
    ['image', 'build', '--out', ctx.image, '--cache', join(ctx.root, '.cache', 'worker-image-cache')].concat([
      '--popc',
      popc,
    ]),
    { timeoutMs: 1_800_000 },
  );
  s.check(
    image.code === 0,
    "the worker image is built with POP-C++'s worker side",
    image.code === 0 ? ctx.image : tail(image),
  );
  if (image.code !== 0) throw new Error('the worker image build failed');
}
