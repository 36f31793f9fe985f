import { createRoute } from "@hono/zod-openapi";
import { ZTokenResponse } from "../../lib/contract/auth";
import { problemResponses, ZIdParam } from "../../lib/contract/common";
import {
  ZAcceptInvitationRequest,
  ZCreateInvitationRequest,
  ZInvitation,
  ZInvitationListResponse,
  ZMember,
  ZMemberListResponse,
  ZUpdateMemberRequest,
  ZUserIdParam,
} from "../../lib/contract/org";
import { type ApiApp, ctxOf, publicCtxOf, requireAuth } from "../http/pipeline";
import { acceptInvitation, createInvitation, listInvitations, revokeInvitation } from "../org/invitations";
import { listMembers, removeMember, updateMemberRole } from "../org/members";

const json = <T>(schema: T) => ({ "application/json": { schema } });

const listMembersRoute = createRoute({
  method: "get",
  path: "/v1/org/members",
  tags: ["Org"],
  summary: "List the organisation's members",
  middleware: [requireAuth],
  responses: { 200: { description: "Members", content: json(ZMemberListResponse) }, ...problemResponses(401, 403, 429) },
});

const updateMemberRoute = createRoute({
  method: "patch",
  path: "/v1/org/members/{user_id}",
  tags: ["Org"],
  summary: "Change a member's role (owners only); their current tokens stop working",
  middleware: [requireAuth],
  request: { params: ZUserIdParam, body: { required: true, content: json(ZUpdateMemberRequest) } },
  responses: { 200: { description: "Updated", content: json(ZMember) }, ...problemResponses(400, 401, 403, 404, 409, 429) },
});

const removeMemberRoute = createRoute({
  method: "delete",
  path: "/v1/org/members/{user_id}",
  tags: ["Org"],
  summary: "Remove a member and delete their account (owners; admins for members); the agents they registered are deactivated",
  middleware: [requireAuth],
  request: { params: ZUserIdParam },
  responses: { 204: { description: "Removed" }, ...problemResponses(400, 401, 403, 404, 409, 429) },
});

const createInvitationRoute = createRoute({
  method: "post",
  path: "/v1/org/invitations",
  tags: ["Org"],
  summary: "Invite someone by email (owners and admins, signed in interactively); the link is valid 7 days",
  middleware: [requireAuth],
  request: { body: { required: true, content: json(ZCreateInvitationRequest) } },
  responses: { 201: { description: "Invitation sent", content: json(ZInvitation) }, ...problemResponses(400, 401, 403, 409, 413, 429) },
});

const listInvitationsRoute = createRoute({
  method: "get",
  path: "/v1/org/invitations",
  tags: ["Org"],
  summary: "List invitations (owners and admins)",
  middleware: [requireAuth],
  responses: { 200: { description: "Invitations", content: json(ZInvitationListResponse) }, ...problemResponses(401, 403, 429) },
});

const revokeInvitationRoute = createRoute({
  method: "delete",
  path: "/v1/org/invitations/{id}",
  tags: ["Org"],
  summary: "Revoke a pending invitation",
  middleware: [requireAuth],
  request: { params: ZIdParam },
  responses: { 204: { description: "Revoked" }, ...problemResponses(400, 401, 403, 404, 409, 429) },
});

const acceptInvitationRoute = createRoute({
  method: "post",
  path: "/v1/org/invitations/accept",
  tags: ["Org"],
  summary: "Accept an invitation: creates your account in the inviting organisation and signs you in",
  description: "An email address that already has a Talon account is refused with 409: an account belongs to exactly one organisation.",
  security: [],
  request: { body: { required: true, content: json(ZAcceptInvitationRequest) } },
  responses: { 201: { description: "Account created; a user token", content: json(ZTokenResponse) }, ...problemResponses(400, 409, 413, 429) },
});

export function registerOrgRoutes(app: ApiApp) {
  app.openapi(listMembersRoute, async (c) => c.json(await listMembers(ctxOf(c)), 200));
  app.openapi(updateMemberRoute, async (c) => c.json(await updateMemberRole(ctxOf(c), c.req.valid("param").user_id, c.req.valid("json")), 200));
  app.openapi(removeMemberRoute, async (c) => {
    await removeMember(ctxOf(c), c.req.valid("param").user_id);
    return c.body(null, 204);
  });
  // Registered before `/{id}` routes of the same prefix so "accept" is never read as an id.
  app.openapi(acceptInvitationRoute, async (c) => c.json(await acceptInvitation(publicCtxOf(c), c.req.valid("json")), 201));
  app.openapi(createInvitationRoute, async (c) => c.json(await createInvitation(ctxOf(c), c.req.valid("json")), 201));
  app.openapi(listInvitationsRoute, async (c) => c.json(await listInvitations(ctxOf(c)), 200));
  app.openapi(revokeInvitationRoute, async (c) => {
    await revokeInvitation(ctxOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
}
