using CallNotify.Api.Http;
using CallNotify.Application.Notifications;
using CallNotify.Application.Notifications.GetNotification;
using CallNotify.Application.Notifications.ListNotifications;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CallNotify.Api.Endpoints;

/// <summary><c>/admin/v1/notifications</c>: what was received and how each delivery went.</summary>
public static class Notifications
{
    public static RouteGroupBuilder MapNotifications(this RouteGroupBuilder admin)
    {
        var group = admin.MapGroup("/notifications").WithTags("Notifications").AnswersStoreUnavailable();
        group.MapGet("/{twiMessageId}", Get)
            .WithName("GetNotification")
            .WithSummary("Read one notification with its deliveries")
            .Answers(StatusCodes.Status200OK, "The notification, its outcome, and each delivery with its status, attempts and events (oldest first).")
            .Answers(StatusCodes.Status400BadRequest, "`accountSid` is missing or malformed; the fields are listed.")
            .Answers(StatusCodes.Status404NotFound, "The account has no notification with this `twiMessageId`.");
        group.MapGet("/", List)
            .WithName("ListNotifications")
            .WithSummary("List notifications, newest first, a page at a time")
            .WithDescription("Filtered by `accountSid`, `identity` and `callSid`; `pageSize` at most 200; pass `nextPageToken` as `pageToken` for the next page.")
            .Answers(StatusCodes.Status200OK, "A page: `{notifications, nextPageToken}`, the token `null` on the last page.")
            .Answers(StatusCodes.Status400BadRequest, "A filter, `pageSize` or `pageToken` is invalid; the fields are listed.");
        return admin;
    }

    internal static async Task<Ok<NotificationDto>> Get(string twiMessageId, string? accountSid, ISender sender, CancellationToken cancellationToken) =>
        TypedResults.Ok(await sender.Send(new GetNotificationQuery(accountSid, twiMessageId), cancellationToken));

    internal static async Task<Ok<NotificationPage>> List(
        string? accountSid,
        string? identity,
        string? callSid,
        int? pageSize,
        string? pageToken,
        ISender sender,
        CancellationToken cancellationToken)
    {
        var page = await sender.Send(new ListNotificationsQuery(accountSid, identity, callSid, pageSize, pageToken), cancellationToken);
        return TypedResults.Ok(new NotificationPage(page.Items, page.NextPageToken));
    }
}

public sealed record NotificationPage(IReadOnlyList<NotificationDto> Notifications, string? NextPageToken);
