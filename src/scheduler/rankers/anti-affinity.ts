// Anti-affinity between replicas of a service: each replica already on the host halves the
// score (1 / (1 + collisions)), like Nomad's job anti-affinity penalty. The replica-spread
// checker already evens counts; this ranker still tells apart hosts an instance pinned by its
// volume or a raised spread level leaves tied.
import type { Ranker } from './ranker.js';

export const antiAffinity = {
  name: 'anti-affinity',
  score: (host, ask, state) => 1 / (1 + state.replicasOn(ask.service, host)),
} satisfies Ranker;
