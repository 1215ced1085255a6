export const healthLevels = ['NOMINAL', 'DEGRADED', 'CRITICAL', 'SHUTDOWN'] as const;
export type HealthLevel = (typeof healthLevels)[number];

/** 0 NOMINAL, 1 DEGRADED, 2 CRITICAL, 3 SHUTDOWN: the value of the k2_health_level gauge. */
export function levelRank(level: HealthLevel): number {
  return healthLevels.indexOf(level);
}

export function worse(a: HealthLevel, b: HealthLevel): HealthLevel {
  return levelRank(a) >= levelRank(b) ? a : b;
}
