export { QemuDriver } from './driver.js';
export { QemuWorker } from './worker.js';
export { templateFromImage } from './template.js';
export { qemuDriverSettings, type QemuDriverSettings, ACCEL_ENV } from './settings.js';
export { qemuArgs, QGA_PORT_NAME, type Accelerator, type QemuLaunch } from './command-line.js';
export { vmLayout, checkVmName, MAX_SOCKET_PATH_BYTES, type VmLayout } from './vm-layout.js';
