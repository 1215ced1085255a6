/** Confluent TopicNameStrategy: the value schema of topic T lives under subject `T-value`. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

export const compatibility = 'BACKWARD';
