using CallNotify.Application.Common.Paging;
using CallNotify.Application.Common.Validation;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using FluentValidation;

namespace CallNotify.Application.Notifications.ListNotifications;

public sealed class ListNotificationsValidator : AbstractValidator<ListNotificationsQuery>
{
    public ListNotificationsValidator()
    {
        RuleFor(x => x.AccountSid).MustBeAccountSid().When(x => x.AccountSid is not null);
        RuleFor(x => x.Identity).MustBeIdentity().When(x => x.Identity is not null);
        RuleFor(x => x.CallSid)
            .Must(c => Text.IsStorable(c, CallNotification.MaxFieldLength))
            .When(x => x.CallSid is not null)
            .WithMessage($"'{{PropertyName}}' must be at most {CallNotification.MaxFieldLength} characters without control characters.");
        RuleFor(x => x.PageSize).MustBePageSize();
        RuleFor(x => x.PageToken)
            .Must(t => PageToken.TryDecode(t, Ids.NotificationPrefix, out _))
            .WithMessage("'{PropertyName}' is not a token this API issued.");
    }
}
