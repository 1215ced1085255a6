import { getHeapStatistics } from 'node:v8';

/** Used heap over the heap limit, the `heapRatio` observation. */
export function heapRatio(): number {
  const { used_heap_size, heap_size_limit } = getHeapStatistics();
  return used_heap_size / heap_size_limit;
}
