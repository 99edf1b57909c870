from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("verification", "0003_session_binding_and_lanes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="onetimecode",
            name="purpose",
            field=models.CharField(
                choices=[
                    ("contact", "Validation d'une adresse e-mail ou d'un mobile"),
                    ("reset", "Mot de passe oublié"),
                    ("signup", "Création de compte d'un membre du foyer"),
                    ("signup_contact", "Création de compte : coordonnée saisie par le membre"),
                    ("login", "Connexion depuis un nouvel appareil"),
                    ("invitation", "Invitation : coordonnée indiquée par l'allocataire"),
                ],
                max_length=16,
                verbose_name="usage",
            ),
        ),
    ]
