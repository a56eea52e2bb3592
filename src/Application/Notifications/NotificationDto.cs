using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Application.Notifications;

/// <summary>A recorded call notification as the admin API shows it. The body itself is not shown.</summary>
public sealed record NotificationDto(
    string TwiMessageId,
    string AccountSid,
    string CallSid,
    string? From,
    string To,
    string Identity,
    string MessageType,
    DateTimeOffset ReceivedAt,
    string Outcome,
    IReadOnlyList<DeliveryDto> Deliveries,
    bool Test)
{
    public static NotificationDto FromEntity(CallNotification n) => new(
        n.TwiMessageId,
        n.AccountSid.Value,
        n.CallSid,
        n.From,
        n.To,
        n.Identity.Value,
        n.MessageType,
        n.ReceivedAt,
        n.Outcome.ToWire(),
        [.. n.Deliveries.OrderBy(d => d.Id, StringComparer.Ordinal).Select(DeliveryDto.From)],
        Operations.TestCalls.IsTest(n.From));
}

public sealed record DeliveryDto(
    string? BindingId,
    string? SessionId,
    string Channel,
    string Status,
    int Attempts,
    string? LastError,
    DateTimeOffset? AcceptedAt,
    DateTimeOffset? AcknowledgedAt,
    IReadOnlyList<DeliveryEventDto> Events)
{
    public static DeliveryDto From(Delivery d) => new(
        d.BindingId,
        d.SessionId,
        d.Channel.ToWire(),
        d.Status.ToWire(),
        d.Attempts,
        d.LastError,
        d.AcceptedAt,
        d.AcknowledgedAt,
        [.. d.Events.OrderBy(e => e.At).Select(e => new DeliveryEventDto(e.At, e.Kind.ToWire(), e.Detail))]);
}

/// <summary>One step of a delivery's history: <c>kind</c> is <c>accepted</c>, <c>retry</c>, <c>failed</c>,
/// <c>client-gone</c>, <c>expired</c>, <c>acknowledged</c> or <c>taken-over</c>; <c>detail</c> the error or reason.</summary>
public sealed record DeliveryEventDto(DateTimeOffset At, string Kind, string? Detail);
