// Flask-Login's configuration, translated. Each comment names the Flask-Login setting.
import { LoginManager, UserMixin } from 'login-manager'

export class User extends UserMixin {
  constructor(readonly id: string) {
    super()
  }
}

export function createManager(users: Map<string, User>) {
  const secret = process.env.SESSION_SECRET // app.config['SECRET_KEY']
  if (secret === undefined) throw new Error('set SESSION_SECRET (npx login-manager secret)')
  const manager = new LoginManager<User>({
    secret,
    loginView: '/login', // login_manager.login_view = 'login' (paths, URLs or resolveEndpoint)
    loginMessage: 'Log in first.', // login_manager.login_message
    loginMessageCategory: 'info', // login_manager.login_message_category
    refreshView: '/reauthenticate', // login_manager.refresh_view
    sessionProtection: 'strong', // SESSION_PROTECTION = 'strong'
    useSessionForNext: true, // USE_SESSION_FOR_NEXT = True
    exemptMethods: ['OPTIONS', 'HEAD'], // flask_login.config.EXEMPT_METHODS
    remember: {
      duration: 7 * 24 * 3600, // REMEMBER_COOKIE_DURATION = timedelta(days=7)
      refreshEachRequest: true, // REMEMBER_COOKIE_REFRESH_EACH_REQUEST = True
      sameSite: 'strict', // REMEMBER_COOKIE_SAMESITE = 'Strict'
    },
  })

  // @login_manager.user_loader
  manager.userLoader((id) => users.get(id) ?? null)

  // @user_logged_in.connect_via(app)
  manager.on('userLoggedIn', ({ user }) => console.log(`${user.getId()} logged in`))

  // login_manager.blueprint_login_views['admin'] = 'admin.login'
  manager.setLoginView('/admin/login', '/admin')

  return manager
}
