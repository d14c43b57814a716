"""The passwords of every test account: the one each signs in with, and the one each changes it to.

Both pass the pool's password policy (length, upper and lower case, a digit, a symbol).
"""

PASSWORD = "Corr3ct-horse-battery"
NEW_PASSWORD = "My-own-passw0rd-2024"
