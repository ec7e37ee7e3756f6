import type { ErrorCategory } from '../../common/error-category.js';
import { assertNever, type CodedError } from '../../common/result.js';

/**
 * Every way reading or building the worker image can fail. The CLI maps these to exit codes
 * (src/cli/image.ts); the driver maps them to its own "template unusable" failure.
 */
export type ImageErrorCode =
  /** The manifest file does not exist or cannot be read. */
  | 'IMAGE_MANIFEST_UNREADABLE'
  /** The manifest is not a psm-worker-image/v1 document psm understands. */
  | 'IMAGE_MANIFEST_INVALID'
  /** A file the manifest names is missing from the image directory. */
  | 'IMAGE_FILE_MISSING'
  /** A host program the build needs is not installed. */
  | 'IMAGE_TOOL_MISSING'
  /** A host program the build runs failed or timed out. */
  | 'IMAGE_TOOL_FAILED'
  /** The kernel package could not be found, fetched or unpacked. */
  | 'IMAGE_KERNEL_UNAVAILABLE'
  /** The kernel image in the package has a layout psm does not understand. */
  | 'IMAGE_KERNEL_FORMAT'
  /** The output directory is unusable (not a directory, not ours, or not writable). */
  | 'IMAGE_OUT_INVALID'
  /** Reading or writing the image, staging or cache directory failed (permissions, disk full). */
  | 'IMAGE_IO_FAILED'
  /** The build was cancelled through its AbortSignal. */
  | 'IMAGE_ABORTED';

export type ImageError = CodedError<ImageErrorCode>;

export function imageError(code: ImageErrorCode, message: string, file?: string): ImageError {
  return file === undefined ? { code, message } : { code, message, file };
}

/** The category of each code (exit code in the CLI, HTTP status in the daemon). */
export function imageErrorCategory(code: ImageErrorCode): ErrorCategory {
  switch (code) {
    case 'IMAGE_MANIFEST_UNREADABLE':
    case 'IMAGE_FILE_MISSING':
      return 'unreadable';
    case 'IMAGE_MANIFEST_INVALID':
      return 'input';
    case 'IMAGE_OUT_INVALID':
      return 'refused';
    case 'IMAGE_TOOL_MISSING':
    case 'IMAGE_TOOL_FAILED':
    case 'IMAGE_KERNEL_UNAVAILABLE':
    case 'IMAGE_KERNEL_FORMAT':
    case 'IMAGE_IO_FAILED':
    case 'IMAGE_ABORTED':
      return 'outside';
    default:
      return assertNever(code);
  }
}
