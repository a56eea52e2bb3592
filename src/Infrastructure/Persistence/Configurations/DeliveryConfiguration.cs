using CallNotify.Domain.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CallNotify.Infrastructure.Persistence.Configurations;

internal sealed class DeliveryConfiguration : IEntityTypeConfiguration<Delivery>
{
    public void Configure(EntityTypeBuilder<Delivery> builder)
    {
        builder.ToTable("deliveries");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Id).HasMaxLength(34);
        builder.Property(d => d.NotificationId).HasMaxLength(34).IsRequired();
        builder.Property(d => d.BindingId).HasMaxLength(34);
        builder.Property(d => d.SessionId).HasMaxLength(34);
        builder.Property(d => d.Channel).HasConversion(Converters.Channel).HasMaxLength(16);
        builder.Property(d => d.Status).HasConversion(Converters.DeliveryStatus).HasMaxLength(16);
        builder.Property(d => d.LastError).HasMaxLength(Delivery.MaxErrorLength);
        builder.HasIndex(d => d.NotificationId);

        // The take-over worker's scan: pending deliveries by when they are due.
        builder.HasIndex(d => new { d.Status, d.NextAttemptAt });
    }
}
