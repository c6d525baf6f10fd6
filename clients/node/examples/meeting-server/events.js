'use strict';
// Which events policy counts each signaling event of a socket: the ONE place
// that knows. Today each event type has an events policy of its own (see
// floodgate.yaml); once floodgated counts event types apart inside one events
// policy, every entry here names that one policy and nothing else changes
// (eventLimiter already sends the event's name with each RL.EVENT).
const EVENT_POLICIES = Object.freeze({
  offer: 'meet_offer',
  'ice-candidate': 'meet_ice',
  'mute-all': 'meet_host', // host actions share one limit
  kick: 'meet_host',
  'end-meeting': 'meet_host',
  'join-room': 'meet_join',
});

// eventLimiter's policyFor: an event with no policy here is not limited.
const policyFor = (event) => EVENT_POLICIES[event] ?? null;

module.exports = { EVENT_POLICIES, policyFor };
