'use strict';
// A Socket.IO chat whose events are limited per socket by floodgated, with an audit log.
//   FLOODGATE_SOCKET=/tmp/fg/floodgate.sock node server.js
const http = require('node:http');
const { Server } = require('socket.io');
const { Client, eventLimiter } = require('floodgate');

function createServer({ client = new Client({ failure: 'insurance' }), audit = (e) => console.log(JSON.stringify(e)) } = {}) {
  const httpServer = http.createServer();
  const io = new Server(httpServer);
  io.use((socket, next) => {
    socket.data.userId = String(socket.handshake.auth?.user ?? 'anonymous');
    next();
  });
  io.use(eventLimiter({
    client,
    policy: 'sio_events',
    warnEvent: 'slow_down', // { event, count, limit } at the 80th event
    limitEvent: 'rate_limited', // { reason, event, count, limit } before the disconnect
    onAudit: (e) => audit({ ts: new Date().toISOString(), ...e }),
  }).middleware);
  io.on('connection', (socket) => {
    socket.on('chat', (msg, ack) => {
      socket.broadcast.emit('chat', { user: socket.data.userId, msg: String(msg).slice(0, 500) });
      if (typeof ack === 'function') ack('ok');
    });
    socket.on('heartbeat', (ack) => typeof ack === 'function' && ack('ok'));
  });
  return { httpServer, io, client };
}

if (require.main === module) {
  const { httpServer } = createServer();
  httpServer.listen(Number(process.env.PORT ?? 3001), () => console.log(`chat on :${httpServer.address().port}`));
}

module.exports = { createServer };
