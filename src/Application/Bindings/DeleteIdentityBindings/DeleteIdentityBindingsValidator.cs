using CallNotify.Application.Common.Validation;
using FluentValidation;

namespace CallNotify.Application.Bindings.DeleteIdentityBindings;

public sealed class DeleteIdentityBindingsValidator : AbstractValidator<DeleteIdentityBindingsCommand>
{
    public DeleteIdentityBindingsValidator()
    {
        RuleFor(x => x.AccountSid).MustBeAccountSid();
        RuleFor(x => x.Identity).MustBeIdentity();
    }
}
