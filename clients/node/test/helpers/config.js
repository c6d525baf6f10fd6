'use strict';
// The policies every test file's agent runs with.
module.exports = `policies:
  - name: api
    type: window
    limits: [ { count: 5, per: 1m } ]
    roles: { OWNER: 2 }
  - name: blk
    type: window
    limits: [ { count: 2, per: 1m } ]
  - name: socket_events
    type: events
    limit: 10
    window: 1m
    exempt: [ping]
  - name: sio_connect
    type: window
    limits: [ { count: 3, per: 1m } ]
  - name: login
    type: progressive
    free_failures: 2
    base_delay: 1s
    factor: 2
    max_delay: 4s
  - name: tokens
    type: budget
    amount: 100
    period: day

  - name: per_user
    type: window
    algorithm: sliding
    limits: [ { count: 3, per: 1m } ]
  - name: per_ip
    type: window
    limits: [ { count: 4, per: 1m } ]
`;
