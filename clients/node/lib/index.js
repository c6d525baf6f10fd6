'use strict';
// floodgate: rate limits for Node.js servers from floodgated's Unix socket.

const client = require('./client');
const { InsuranceLimiter } = require('./insurance');
const { RespReader, RespProtocolError, ReplyError } = require('./resp');
const ip = require('./ip');
const express = require('./express');
const socketio = require('./socketio');
const nestjs = require('./nestjs');
const stores = require('./stores');

module.exports = {
  Client: client.Client,
  createClient: client.createClient,
  FloodgateUnavailableError: client.FloodgateUnavailableError,
  FloodgateCommandError: client.FloodgateCommandError,
  FloodgateArgumentError: client.FloodgateArgumentError,
  InsuranceLimiter,
  RespReader,
  RespProtocolError,
  ReplyError,
  normalizeIp: ip.normalizeIp,
  rateLimit: express.rateLimit,
  progressiveLogin: express.progressiveLogin,
  budget: express.budget,
  draftHeaders: express.draftHeaders,
  connectionLimiter: socketio.connectionLimiter,
  eventLimiter: socketio.eventLimiter,
  handshakeLimiter: socketio.handshakeLimiter,
  vouchOnConnect: socketio.vouchOnConnect,
  FloodgateGuard: nestjs.FloodgateGuard,
  RateLimit: nestjs.RateLimit,
  SkipRateLimit: nestjs.SkipRateLimit,
  DEFAULT_SOCKET: client.DEFAULT_SOCKET,
  throttle: stores.throttle,
  throttleReset: stores.throttleReset,
  FloodgateThrottlerStorage: stores.FloodgateThrottlerStorage,
  FloodgateStore: stores.FloodgateStore,
};
