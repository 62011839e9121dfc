/** A delivery as the fan-out has just written it. */
export interface NewDelivery {
  id: string;
  endpointId: string;
  /** Creation order (a bigint as text). */
  seq: string;
}

/**
 * Which of the deliveries one transaction wrote get a job of the queue: the first of each endpoint. A job walks
 * its endpoint's due deliveries in order, so one job per endpoint and transaction reaches them all; a job per
 * delivery would only find the others already delivered, or behind the one in flight.
 */
export function deliveriesToEnqueue(deliveries: NewDelivery[]): { deliveryId: string; endpointId: string }[] {
  const first = new Map<string, NewDelivery>();
  for (const delivery of deliveries) {
    const seen = first.get(delivery.endpointId);
    if (!seen || BigInt(delivery.seq) < BigInt(seen.seq)) first.set(delivery.endpointId, delivery);
  }
  return [...first.values()].map((delivery) => ({
    deliveryId: delivery.id,
    endpointId: delivery.endpointId,
  }));
}
