// The engine (src/core and the view model) is its own bundle, dist/engine.js, required on first use: loading it takes
// tens of milliseconds, and activation must stay under 50 ms (it only registers). Types come from the sources.
import type * as Engine from '../shared/engine';

let loaded: typeof Engine | undefined;

export function engine(): typeof Engine {
  loaded ??= require('./engine.js') as typeof Engine;
  return loaded;
}
