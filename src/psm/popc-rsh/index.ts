export { loadTunnelMap, parseTunnelMap, type TunnelMap, type TunnelWorker } from './config.js';
export { popcRshErrorCategory, type PopcRshError, type PopcRshErrorCode } from './errors.js';
export { planLaunch, type LaunchPlan } from './plan.js';
export { runPopcRsh } from './run.js';
