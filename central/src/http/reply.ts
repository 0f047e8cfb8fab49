// Answers several route modules give the same way.
import type { FastifyReply } from 'fastify';

/** 204 with no body and no content-type (the route declares `204: NoContent`). */
export function noContent(reply: FastifyReply): FastifyReply {
  return reply.status(204).send();
}
