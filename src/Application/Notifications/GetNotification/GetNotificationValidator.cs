using CallNotify.Application.Common.Validation;
using FluentValidation;

namespace CallNotify.Application.Notifications.GetNotification;

public sealed class GetNotificationValidator : AbstractValidator<GetNotificationQuery>
{
    public GetNotificationValidator()
    {
        RuleFor(x => x.AccountSid).MustBeAccountSid();
        RuleFor(x => x.TwiMessageId).NotEmpty().MaximumLength(256);
    }
}
