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
        var group = admin.MapGroup("/notifications").WithTags("Notifications");
        group.MapGet("/{twiMessageId}", Get).WithName("GetNotification").ProducesValidationProblem();
        group.MapGet("/", List).WithName("ListNotifications").ProducesValidationProblem();
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
