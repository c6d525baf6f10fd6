'use strict';
// Which events policy counts each signaling event of a socket: the ONE place
// that knows. One events policy, meet_signal, counts every event type apart
// (its `events:` in floodgate.yaml); the host actions are not named there and
// share its own limit. eventLimiter sends the event's name with each RL.EVENT.
const EVENT_POLICIES = Object.freeze({
  offer: 'meet_signal',
  'ice-candidate': 'meet_signal',
  'mute-all': 'meet_signal', // host actions share the policy's own limit
  kick: 'meet_signal',
  'end-meeting': 'meet_signal',
  'join-room': 'meet_signal',
});

// eventLimiter's policyFor: an event with no policy here is not limited.
const policyFor = (event) => EVENT_POLICIES[event] ?? null;

module.exports = { EVENT_POLICIES, policyFor };
