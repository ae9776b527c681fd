// Types of scripts/bundle.mjs for the TypeScript tests that import it.
import type { BuildResult } from 'esbuild';

export declare const ENTRY_POINTS: readonly string[];
export declare const DEFAULT_OUTDIR: string;
export declare const STATIC_ASSETS: readonly { readonly from: string; readonly to: string }[];
export declare function bundle(options?: {
  entryPoints?: readonly string[];
  outdir?: string;
}): Promise<BuildResult<{ metafile: true }>>;
/** Module name → stub file (relative to the project root) the bundle uses instead. */
export declare const STUBBED_MODULES: Readonly<Record<string, string>>;
export declare const CHUNK_PREFIX: string;
