export { behaviourFor, type LevelBehaviour } from './behaviour.js';
export {
  type BreakerChange,
  type BreakerOptions,
  type BreakerPolicy,
  type BreakerState,
  CircuitBreaker,
  CircuitOpenError,
  type Dependency,
  defaultBreakerPolicy,
  dependencies,
  type Permit,
} from './circuit-breaker.js';
export { ErrorWindow, type ErrorWindowOptions } from './error-window.js';
export { type HealthLevel, healthLevels, levelRank } from './levels.js';
export {
  type Assessment,
  assess,
  type Band,
  defaultHealthThresholds,
  dependencyDown,
  type HealthThresholds,
  type Observations,
  type Reason,
  type Signal,
  signals,
  validateThresholds,
} from './policy.js';
export { heapRatio } from './process.js';
